// 报修详情: status, place, description, photos, deadlines and the timeline, plus the buttons the
// server says this person may press now (`actions`): the reporter confirms and rates, cancels or
// reopens; the worker accepts, declines, starts, pauses and completes; a dispatcher assigns, transfers,
// changes the urgency or cancels.
const repairsApi = require('../../../api/repairs');
const { absoluteUrl } = require('../../../api/request');
const labels = require('../../../utils/repairs');
const time = require('../../../utils/time');
const photos = require('../../utils/photos');

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

function view(repair) {
  const now = Date.now();
  const shaped = repair.photos.map(p => Object.assign({}, p, { url: absoluteUrl(p.url), thumb: absoluteUrl(p.thumb_url) }));
  return Object.assign(labels.listItem(repair, now), {
    reportPhotos: shaped.filter(p => p.kind === 'report'),
    afterPhotos: shaped.filter(p => p.kind === 'after'),
    deadlineRows: (repair.deadlines || []).map(d => ({
      label: d.label,
      due: time.formatDateTime(d.due_at, now),
      state: d.met_at ? (d.overdue ? '超时完成' : '按时') : d.overdue ? '已超时' : '进行中',
      late: d.overdue,
    })),
    steps: (repair.timeline || []).map(t => Object.assign({}, t, { when: time.formatDateTime(t.at, now) })),
    costText: labels.costText(repair.material_cost_fen),
    ratingStars: repair.rating ? labels.stars(repair.rating.stars) : '',
    buttons: labels.actionsFor(repair.actions),
  });
}

function ask(title, placeholder) {
  return new Promise(resolve => {
    wx.showModal({
      title,
      editable: true,
      placeholderText: placeholder,
      success: res => resolve(res.confirm ? { text: String(res.content || '').trim() } : null),
      fail: () => resolve(null),
    });
  });
}

function confirm(title, content) {
  return new Promise(resolve => {
    wx.showModal({ title, content, success: res => resolve(!!res.confirm), fail: () => resolve(false) });
  });
}

Component({
  data: {
    id: null,
    repair: null,
    loading: true,
    error: '',
    busy: false,
    workers: [],
    workerNames: [],
    uploads: [],
    rating: null, // {stars, tags, comment} while the rating form is open
    ratingTags: [],
  },

  methods: {
    onLoad(query) {
      this.setData({ id: Number(query && query.id) });
      return this.load();
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    load() {
      this.setData({ loading: true, error: '' });
      return repairsApi.get(this.data.id, { silent: true }).then(
        repair => {
          this.show(repair);
          this.setData({ loading: false });
          return this.loadPickers(repair);
        },
        err => this.setData({ loading: false, error: err.statusCode === 404 ? '报修单不存在或无权查看' : err.message })
      );
    },

    show(repair) {
      this.setData({ repair: view(repair) });
    },

    loadPickers(repair) {
      const actions = repair.actions || [];
      if (actions.indexOf('assign') < 0 && actions.indexOf('transfer') < 0) return undefined;
      return repairsApi.workers({ silent: true }).then(
        workers => this.setData({ workers, workerNames: workers.map(w => w.name + '（在办' + w.open_count + '）') }),
        () => {}
      );
    },

    run(action, payload) {
      if (this.data.busy) return Promise.resolve();
      this.setData({ busy: true });
      const call = action === 'reprioritise'
        ? repairsApi.reprioritise(this.data.id, payload)
        : repairsApi.act(this.data.id, action, payload);
      return call.then(
        repair => {
          this.setData({ busy: false, rating: null });
          this.show(repair);
          toast('已' + (labels.ACTIONS.filter(a => a.name === action)[0] || { label: '完成' }).label);
        },
        () => {
          this.setData({ busy: false });
          return this.load(); // the toast said why; show what is true now
        }
      );
    },

    onAction(e) {
      const name = e.currentTarget.dataset.name;
      const action = labels.ACTIONS.filter(a => a.name === name)[0];
      if (!action) return undefined;
      if (name === 'complete') {
        wx.navigateTo({ url: '/packageRepairs/pages/complete/complete?id=' + this.data.id });
        return undefined;
      }
      if (name === 'confirm') return this.openRating();
      if (name === 'add_photos') return this.addPhotos();
      if (name === 'reprioritise') return this.reprioritise();
      if (action.reason) {
        return ask(action.label, action.prompt).then(answer => {
          if (!answer) return undefined;
          if (action.reason === 'required' && !answer.text) {
            toast('请填写原因');
            return undefined;
          }
          return this.run(name, answer.text ? { reason: answer.text.slice(0, 200) } : {});
        });
      }
      return this.run(name);
    },

    onPickWorker(e) {
      const worker = this.data.workers[Number(e.detail.value)];
      if (!worker) return undefined;
      return this.run(e.currentTarget.dataset.name, { worker_id: worker.user_id });
    },

    reprioritise() {
      const toUrgent = this.data.repair.urgency !== 'urgent';
      return confirm('调整紧急程度', toUrgent ? '改为紧急？时限将按紧急标准重新计算' : '改为普通？').then(ok =>
        ok ? this.run('reprioritise', { urgency: toUrgent ? 'urgent' : 'normal' }) : undefined
      );
    },

    addPhotos() {
      const uploader = (path, onProgress) => repairsApi.addPhoto(this.data.id, path, onProgress);
      this.setData({ uploads: [] });
      return photos.pickAndUpload(this, 'uploads', uploader).then(() => this.load());
    },

    openRating() {
      const tags = this.data.ratingTags.length
        ? Promise.resolve()
        : repairsApi.ratingTags({ silent: true }).then(r => this.setData({ ratingTags: r.tags }), () => {});
      this.setData({ rating: { stars: 5, tags: [], on: {}, comment: '' } });
      return tags;
    },

    onStar(e) {
      this.setData({ 'rating.stars': Number(e.currentTarget.dataset.n) });
    },

    onTag(e) {
      const tag = e.currentTarget.dataset.tag;
      const tags = this.data.rating.tags.slice();
      const at = tags.indexOf(tag);
      if (at >= 0) tags.splice(at, 1);
      else tags.push(tag);
      const on = {};
      tags.forEach(t => {
        on[t] = true;
      });
      this.setData({ 'rating.tags': tags, 'rating.on': on });
    },

    onComment(e) {
      this.setData({ 'rating.comment': e.detail.value });
    },

    submitRating() {
      const r = this.data.rating;
      return this.run('confirm', { rating: r.stars, tags: r.tags, comment: r.comment.trim() || null });
    },

    preview(e) {
      const list = this.data.repair[e.currentTarget.dataset.group];
      wx.previewImage({ urls: list.map(p => p.url), current: e.currentTarget.dataset.url });
    },

    call() {
      wx.makePhoneCall({ phoneNumber: this.data.repair.contact_phone });
    },
  },
});
