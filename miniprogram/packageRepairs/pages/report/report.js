// 报修: category, place (browse the tree, scan the room's code, or given by the place page as
// ?place_id= / ?place=<code>), description, urgency, contact phone, preferred time and up to 9
// photos uploaded as they are picked. 提交 asks for the progress subscribe message first (it must
// run in the tap, before any request), then sends the report.
//
// Duplicates: once place and category are both chosen the form asks GET /repairs/open-check and
// says so under the place when the same problem is already open; 提交 asks again, and if it is open
// offers 关注该报修 (the report joins the open one: the reporter follows it, the note and photos go
// on it — POST /repairs answers {linked: true, repair}) or 仍然提交 (insist: a new repair), each
// with the photos uploaded once. Should the open one appear between the check and the submit, the
// server links the report anyway and the user may still insist (photos uploaded again).
const repairsApi = require('../../../api/repairs');
const placesApi = require('../../../api/places');
const subscribe = require('../../../services/subscribe');
const scene = require('../../../utils/scene');
const routes = require('../../../utils/routes');
const status = require('../../../utils/repair-status');
const time = require('../../../utils/time');
const photos = require('../../lib/photos');

const PHONE_RE = /^\+?[0-9][0-9-]{5,19}$/;

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

function placeView(place) {
  return { id: place.id, name: place.name, fullName: place.full_name || place.name };
}

// form -> {field: message} (empty when valid); messages match the backend's.
function validate(d) {
  const errors = {};
  if (!d.categoryId) errors.category = '请选择报修类别';
  if (!d.place) errors.place = '请选择报修地点';
  const description = String(d.description || '').trim();
  if (!description) errors.description = '请描述问题';
  else if (description.length < 2) errors.description = '问题描述至少2个字';
  const phone = String(d.phone || '').trim();
  if (!phone) errors.phone = '请填写联系电话';
  else if (!PHONE_RE.test(phone)) errors.phone = '请填写正确的联系电话';
  return errors;
}

// A 422 envelope's field errors -> the form's names.
const SERVER_FIELDS = { category_id: 'category', place_id: 'place', description: 'description', contact_phone: 'phone', photo_ids: 'photos' };

function serverErrors(errors) {
  const source = errors && typeof errors.json === 'object' ? errors.json : errors || {};
  const out = {};
  Object.keys(source).forEach(key => {
    const value = source[key];
    const message = Array.isArray(value) ? value[0] : value;
    if (SERVER_FIELDS[key] && typeof message === 'string') out[SERVER_FIELDS[key]] = message;
  });
  return out;
}

// GET /repairs/open-check -> what the form shows of the open repair (null: none, or unknown).
function duplicateView(check) {
  if (!check || !check.open) return null;
  return {
    repairId: check.repair_id,
    statusLabel: check.status_label || status.statusLabel(check.status),
    time: check.created_at ? time.formatRelative(check.created_at) : '',
    mine: Boolean(check.mine),
  };
}

function confirmDuplicate(repair) {
  return new Promise(resolve => {
    wx.showModal({
      title: '该房间已有同类报修正在处理',
      content: '“' + repair.description + '”（' + status.statusLabel(repair.status) + '）。你的说明已附在这条报修上，可查看进度；如是另一个问题，可仍然提交。',
      confirmText: '查看',
      cancelText: '仍然提交',
      success: res => resolve(res.confirm ? 'view' : 'insist'),
      fail: () => resolve('view'),
    });
  });
}

Component({
  data: {
    loading: true,
    categories: [],
    categoryId: null,
    place: null,
    browsing: false,
    trail: [], // [{id, name}] from the campus down to the level shown
    children: [],
    description: '',
    urgent: false,
    phone: '',
    preferredTime: '',
    photos: [],
    max: photos.MAX_PHOTOS,
    errors: {},
    submitting: false,
    error: '',
    openRepair: null, // the open repair of the chosen place and category: {repairId, statusLabel, time, mine}
    duplicate: null, // the same, while 提交 asks what to do
  },

  methods: Object.assign({}, photos.methods, {
    onLoad(query) {
      const q = query || {};
      const tasks = [this.loadCategories()];
      if (q.place_id) tasks.push(this.usePlace(placesApi.get(q.place_id, { silent: true })));
      else if (q.place) tasks.push(this.usePlace(placesApi.getByCode(decodeURIComponent(q.place), { silent: true })));
      return Promise.all(tasks);
    },

    loadCategories() {
      this.setData({ loading: true, error: '' });
      return repairsApi.categories({ silent: true }).then(
        list => this.setData({ loading: false, categories: list.filter(c => c.active !== false) }),
        err => this.setData({ loading: false, error: err.message })
      );
    },

    usePlace(promise) {
      return promise.then(
        place => {
          this.setData({ place: placeView(place), browsing: false, 'errors.place': '' });
          return this.checkOpen();
        },
        err => toast(err.statusCode === 404 ? '未找到该场所' : err.message)
      );
    },

    onCategory(e) {
      this.setData({ categoryId: e.currentTarget.dataset.id, 'errors.category': '' });
      return this.checkOpen();
    },

    // --- is the same problem already open? -----------------------------------------------------------
    // Asks for the place and category chosen now; an answer for an earlier choice is dropped.
    // Resolves the open repair's view, or null (none, nothing to ask, or the check failed).
    checkOpen() {
      const place = this.data.place;
      const categoryId = this.data.categoryId;
      if (!place || !categoryId) {
        this.setData({ openRepair: null });
        return Promise.resolve(null);
      }
      const key = place.id + ':' + categoryId;
      this.openKey = key;
      return repairsApi.openCheck(place.id, categoryId, { silent: true }).then(
        check => {
          if (this.openKey !== key) return null;
          const found = duplicateView(check);
          this.setData({ openRepair: found });
          return found;
        },
        () => {
          if (this.openKey === key) this.setData({ openRepair: null });
          return null;
        }
      );
    },

    onViewOpen() {
      const open = this.data.openRepair;
      if (open) wx.navigateTo({ url: routes.repairUrl(open.repairId) });
    },

    // --- place: browse the tree ---------------------------------------------------------------------
    onBrowse() {
      this.setData({ browsing: true, trail: [] });
      return this.loadChildren(null);
    },

    loadChildren(parentId) {
      return placesApi.children(parentId).then(
        list => this.setData({ children: list }),
        () => {}
      );
    },

    onChild(e) {
      const place = this.data.children.filter(p => p.id === e.currentTarget.dataset.id)[0];
      if (!place) return undefined;
      const trail = this.data.trail.concat([{ id: place.id, name: place.name }]);
      if (place.kind === 'room') {
        this.setData({
          place: { id: place.id, name: place.name, fullName: trail.map(t => t.name).join(' › ') },
          browsing: false,
          'errors.place': '',
        });
        return this.checkOpen();
      }
      this.setData({ trail });
      return this.loadChildren(place.id);
    },

    // Picks the level shown (a corridor, a whole floor) when the problem is not in one room.
    onPickHere() {
      const trail = this.data.trail;
      if (!trail.length) return undefined;
      const last = trail[trail.length - 1];
      this.setData({ place: { id: last.id, name: last.name, fullName: trail.map(t => t.name).join(' › ') }, browsing: false, 'errors.place': '' });
      return this.checkOpen();
    },

    onTrail(e) {
      const index = Number(e.currentTarget.dataset.index);
      const trail = index < 0 ? [] : this.data.trail.slice(0, index + 1);
      this.setData({ trail });
      return this.loadChildren(trail.length ? trail[trail.length - 1].id : null);
    },

    onCloseBrowse() {
      this.setData({ browsing: false });
    },

    // --- place: scan the room's code ----------------------------------------------------------------
    onScan() {
      wx.scanCode({
        scanType: ['wxCode', 'qrCode'],
        success: res => {
          const target = scene.parseScanResult(res);
          if (!target || target.type !== 'place') toast('请扫描房间内的场所码');
          else this.usePlace(placesApi.getByCode(target.code, { silent: true }));
        },
      });
    },

    // --- fields -------------------------------------------------------------------------------------
    onInput(e) {
      const field = e.currentTarget.dataset.field;
      this.setData({ [field]: e.detail.value, ['errors.' + (field === 'description' ? 'description' : field)]: '' });
    },

    onUrgent(e) {
      this.setData({ urgent: Boolean(e.detail.value) });
    },

    goMine() {
      wx.navigateTo({ url: routes.REPAIR_MINE });
    },

    // --- submit -------------------------------------------------------------------------------------
    onSubmit() {
      if (this.data.submitting || !this.readyToSubmit(validate(this.data))) return undefined;
      // In the tap, before any request: WeChat shows the consent dialog only from a user gesture.
      subscribe.askFor([status.EVENTS.status]);
      this.setData({ submitting: true });
      return this.checkOpen().then(found => {
        if (!found) return this.send(false);
        this.setData({ submitting: false, duplicate: found });
        return undefined;
      });
    },

    // 关注该报修: the report joins the open one (follower, note and photos); then it opens.
    onFollow() {
      const duplicate = this.data.duplicate;
      if (!duplicate || this.data.submitting) return undefined;
      this.setData({ duplicate: null });
      return this.send(false, duplicate);
    },

    // 仍然提交: a new repair all the same, with the photos already uploaded.
    onInsist() {
      if (!this.data.duplicate || this.data.submitting) return undefined;
      this.setData({ duplicate: null });
      return this.send(true);
    },

    onCloseDuplicate() {
      this.setData({ duplicate: null });
    },

    noop() {},

    payload(insist) {
      const d = this.data;
      return {
        category_id: d.categoryId,
        place_id: d.place.id,
        description: d.description.trim(),
        urgency: d.urgent ? 'urgent' : 'normal',
        contact_phone: d.phone.trim(),
        preferred_time: d.preferredTime.trim() || null,
        photo_ids: this.photoIds(),
        insist,
      };
    },

    // `following`: the open repair 关注该报修 chose (a linked answer is then what was asked for).
    send(insist, following) {
      this.setData({ submitting: true });
      return repairsApi.create(this.payload(insist)).then(
        result => {
          this.setData({ submitting: false });
          if (result.linked && following) return this.followed(result.repair, following);
          if (result.linked) return this.onLinked(result.repair);
          wx.showToast({ title: '报修已提交', icon: 'success' });
          wx.redirectTo({ url: routes.repairUrl(result.repair.id) });
          return undefined;
        },
        err => {
          this.setData({ submitting: false, errors: Object.assign({}, this.data.errors, serverErrors(err.errors)) });
        }
      );
    },

    followed(repair, following) {
      wx.showToast({ title: following.mine ? '已补充到原报修' : '已关注该报修', icon: 'success' });
      wx.redirectTo({ url: routes.repairUrl(repair.id) });
      return undefined;
    },

    // The open repair took the report (and its photos) although the check had not seen it (it came
    // in meanwhile): look at it, or report anew with photos uploaded again.
    onLinked(repair) {
      return confirmDuplicate(repair).then(choice => {
        if (choice === 'view') {
          wx.redirectTo({ url: routes.repairUrl(repair.id) });
          return undefined;
        }
        const again = this.data.photos.length ? this.reuploadPhotos() : Promise.resolve();
        return again.then(() => {
          const problem = this.photosProblem();
          if (problem) {
            toast(problem);
            return undefined;
          }
          return this.send(true);
        });
      });
    },
  }),
});
