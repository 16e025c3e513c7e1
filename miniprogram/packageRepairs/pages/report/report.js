// 我要报修: category grid, place (from a room's QR code, a scan, or the campus › building › floor ›
// room picker), description, photos (uploaded one by one with progress), urgency, contact phone and
// preferred time. Before submitting it checks whether the same problem is already open: submitting then
// links the report to it unless the reporter ticks 仍要单独报修.
const repairsApi = require('../../../api/repairs');
const placesApi = require('../../../api/places');
const subscribe = require('../../../services/subscribe');
const scene = require('../../../utils/scene');
const labels = require('../../../utils/repairs');
const photos = require('../../utils/photos');

const LEVEL_LABELS = ['校区', '楼栋', '楼层', '房间'];
const DETAIL = '/packageRepairs/pages/detail/detail?id=';

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

function fieldErrors(server) {
  const fields = (server && server.json) || server || {};
  const out = {};
  const map = { category_id: 'category', place_id: 'place', description: 'description', contact_phone: 'phone', photo_ids: 'photos' };
  Object.keys(map).forEach(name => {
    if (fields[name]) out[map[name]] = [].concat(fields[name])[0];
  });
  return out;
}

Component({
  data: {
    loading: true,
    loadError: '',
    categories: [],
    categoryId: null,
    place: null, // {id, full_name}
    levels: [], // [{label, items, names, index}]
    description: '',
    urgent: false,
    contactPhone: '',
    preferredTimes: labels.PREFERRED_TIMES,
    preferredIndex: 0,
    photos: [],
    maxPhotos: labels.MAX_PHOTOS,
    existing: null, // an open repair of the same place and category
    insist: false,
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: {
    onLoad(query) {
      subscribe.load();
      const code = query && query.place ? decodeURIComponent(query.place) : '';
      return Promise.all([
        repairsApi.categories({ silent: true }).then(categories => this.setData({ categories })),
        code ? this.usePlaceCode(code) : this.loadLevel(0, null),
      ]).then(
        () => this.setData({ loading: false }),
        err => this.setData({ loading: false, loadError: err.message })
      );
    },

    usePlaceCode(code) {
      return placesApi.getByCode(code, { silent: true }).then(place => {
        this.setData({ place: { id: place.id, full_name: place.full_name }, levels: [], 'errors.place': '' });
        return this.checkOpen();
      });
    },

    loadLevel(depth, parentId) {
      return placesApi.children(parentId, { silent: true }).then(items => {
        const levels = this.data.levels.slice(0, depth);
        if (items && items.length) {
          levels.push({ label: LEVEL_LABELS[depth] || '位置', items, names: items.map(i => i.name), index: -1 });
        }
        this.setData({ levels });
      });
    },

    onLevelChange(e) {
      const depth = Number(e.currentTarget.dataset.depth);
      const index = Number(e.detail.value);
      const levels = this.data.levels.slice(0, depth + 1);
      levels[depth] = Object.assign({}, levels[depth], { index });
      const item = levels[depth].items[index];
      const fullName = levels.map(level => level.items[level.index].name).join(' › ');
      this.setData({ levels, place: { id: item.id, full_name: fullName }, 'errors.place': '' });
      const checked = this.checkOpen();
      return item.kind === 'room' ? checked : Promise.all([checked, this.loadLevel(depth + 1, item.id)]);
    },

    changePlace() {
      this.setData({ place: null, levels: [], existing: null });
      return this.loadLevel(0, null);
    },

    scanPlace() {
      wx.scanCode({
        scanType: ['wxCode', 'qrCode'],
        success: res => {
          const target = scene.parseScanResult(res);
          if (target && target.type === 'place') this.usePlaceCode(target.code).catch(err => toast(err.message));
          else toast('请扫描房间内的场所码');
        },
      });
    },

    onCategory(e) {
      this.setData({ categoryId: Number(e.currentTarget.dataset.id), 'errors.category': '' });
      return this.checkOpen();
    },

    // Same place and category already open? Tell the reporter before they type it all again.
    checkOpen() {
      const place = this.data.place;
      const categoryId = this.data.categoryId;
      if (!place || !categoryId) {
        this.setData({ existing: null });
        return Promise.resolve();
      }
      return repairsApi
        .openCheck(place.id, categoryId, { silent: true })
        .then(result => this.setData({ existing: result && result.open ? result : null, insist: false }), () => {});
    },

    onInsist(e) {
      this.setData({ insist: (e.detail.value || []).length > 0 });
    },

    onDescription(e) {
      this.setData({ description: e.detail.value, 'errors.description': '' });
    },

    onPhone(e) {
      this.setData({ contactPhone: e.detail.value, 'errors.phone': '' });
    },

    onUrgent(e) {
      this.setData({ urgent: !!e.detail.value });
    },

    onPreferred(e) {
      this.setData({ preferredIndex: Number(e.detail.value) });
    },

    addPhotos() {
      this.setData({ 'errors.photos': '' });
      return photos.pickAndUpload(this, 'photos');
    },

    removePhoto(e) {
      photos.remove(this, 'photos', e.currentTarget.dataset.uid);
    },

    previewPhoto(e) {
      photos.preview(this.data.photos, e.currentTarget.dataset.path);
    },

    goMine() {
      wx.navigateTo({ url: '/packageRepairs/pages/mine/mine' });
    },

    onSubmit() {
      if (this.data.submitting) return undefined;
      const d = this.data;
      const errors = labels.validate({
        categoryId: d.categoryId,
        place: d.place,
        description: d.description,
        contactPhone: d.contactPhone,
        photos: d.photos,
      });
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return undefined;
      // Inside the tap: ask for progress messages now (WeChat allows it only from a user's tap).
      subscribe.ask(['repairs.status']);
      this.setData({ submitting: true });
      const payload = {
        category_id: d.categoryId,
        place_id: d.place.id,
        description: d.description.trim(),
        contact_phone: d.contactPhone.trim(),
        urgency: d.urgent ? 'urgent' : 'normal',
        preferred_time: d.preferredTimes[d.preferredIndex],
        photo_ids: photos.ids(d.photos),
        insist: !!(d.existing && d.insist),
      };
      return repairsApi.submit(payload, { silent: true }).then(
        result => {
          this.setData({ submitting: false });
          wx.showToast({ title: result.linked ? '已关联到现有报修' : '报修已提交', icon: 'success' });
          wx.redirectTo({ url: DETAIL + result.repair.id });
        },
        err => this.setData({ submitting: false, formError: err.message, errors: fieldErrors(err.errors) })
      );
    },
  },
});
