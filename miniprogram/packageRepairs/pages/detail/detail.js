// A repair: status, place, description, photos (short-lived signed URLs from the API), deadlines,
// the timeline, and buttons for the actions the API says this user may take now (`actions`):
// the reporter cancels, confirms with a rating or reopens; the worker accepts, declines, starts,
// pauses, resumes and completes (on its own page); a dispatcher assigns, transfers, reprioritises.
const repairsApi = require('../../../api/repairs');
const status = require('../../../utils/repair-status');
const time = require('../../../utils/time');
const money = require('../../../utils/money');
const routes = require('../../../utils/routes');
const dispatch = require('../../lib/dispatch');
const view = require('../../lib/view');

// Buttons in this order; `reason`: asks for one (required) / optional; `danger`: red.
const BUTTONS = [
  { action: 'accept', label: '接单', primary: true },
  { action: 'start', label: '到场维修', primary: true },
  { action: 'resume', label: '继续维修', primary: true },
  { action: 'complete', label: '维修完成', primary: true },
  { action: 'hold', label: '暂停', reason: 'required', prompt: '暂停原因（如：等配件）' },
  { action: 'decline', label: '退回', reason: 'required', prompt: '退回原因' },
  { action: 'assign', label: '派单', primary: true },
  { action: 'transfer', label: '转派' },
  { action: 'reprioritise', label: '调整紧急程度' },
  { action: 'reopen', label: '没修好，重新报修', reason: 'required', prompt: '哪里还没修好？' },
  { action: 'cancel', label: '取消报修', reason: 'optional', prompt: '取消原因（选填）', danger: true },
];

const STARS = [1, 2, 3, 4, 5];

const DONE = {
  accept: '已接单',
  decline: '已退回',
  start: '已开始维修',
  hold: '已暂停',
  resume: '已继续维修',
  confirm: '感谢评价',
  cancel: '已取消',
  reopen: '已重新报修',
};

function detailView(r) {
  return Object.assign(view.basics(r), {
    urgency: r.urgency,
    phone: r.contact_phone,
    preferredTime: r.preferred_time || '',
    created: time.formatDateTime(r.created_at),
    photos: (r.photos || []).map(p => ({ id: p.id, kind: p.kind, thumb: repairsApi.absoluteUrl(p.thumb_url), url: repairsApi.absoluteUrl(p.url) })),
    deadlines: (r.deadlines || []).map(d => ({
      kind: d.kind,
      label: d.label,
      due: time.formatDateTime(d.due_at),
      met: d.met_at ? time.formatDateTime(d.met_at) : '',
      overdue: Boolean(d.overdue),
    })),
    timeline: (r.timeline || [])
      .slice()
      .reverse()
      .map((t, i) => ({
        key: i,
        label: t.label || status.actionLabel(t.action),
        actor: t.actor_name,
        note: t.note || '',
        statusLabel: t.status ? status.statusLabel(t.status) : '',
        at: time.formatDateTime(t.at),
      })),
    materials: (r.materials || []).map(m => ({ name: m.name, quantity: m.quantity, unit: m.unit, cost: money.formatFen(m.cost_fen) })),
    materialCost: r.material_cost_fen ? money.formatFen(r.material_cost_fen) : '',
    labourMinutes: r.labour_minutes || 0,
    completionNote: r.completion_note || '',
    rating: r.rating
      ? { stars: r.rating.stars, starText: '★★★★★'.slice(0, r.rating.stars) + '☆☆☆☆☆'.slice(0, 5 - r.rating.stars), tags: (r.rating.tags || []).join('、'), comment: r.rating.comment || '', auto: Boolean(r.rating.auto) }
      : null,
  });
}

Component({
  data: Object.assign({}, dispatch.data, {
    loading: true,
    error: '',
    repair: null,
    buttons: [],
    canConfirm: false,
    stars: STARS,
    rating: 0,
    tags: [], // [{name, on}]
    comment: '',
    ratingError: '',
    busy: false,
  }),

  methods: Object.assign({}, dispatch.methods, {
    onLoad(query) {
      this.repairId = Number(query && query.id);
      return this.load();
    },

    // Back from 完工: show the completed repair.
    onShow() {
      if (this.needsReload) {
        this.needsReload = false;
        return this.load();
      }
      return undefined;
    },

    load() {
      this.setData({ loading: !this.data.repair, error: '' });
      return repairsApi.get(this.repairId, { silent: true }).then(
        repair => this.show(repair),
        err => this.setData({ loading: false, error: err.statusCode === 404 ? '报修单不存在或无权查看' : err.message })
      );
    },

    show(repair) {
      const actions = repair.actions || [];
      const canConfirm = actions.indexOf('confirm') >= 0;
      this.setData({
        loading: false,
        repair: detailView(repair),
        buttons: BUTTONS.filter(b => actions.indexOf(b.action) >= 0),
        canConfirm,
      });
      if (canConfirm && !this.data.tags.length) this.loadTags();
    },

    loadTags() {
      return repairsApi.ratingTags({ silent: true }).then(
        res => this.setData({ tags: (res.tags || []).map(name => ({ name, on: false })) }),
        () => {}
      );
    },

    onPreview(e) {
      const urls = this.data.repair.photos.map(p => p.url);
      wx.previewImage({ current: e.currentTarget.dataset.url, urls });
    },

    onCall() {
      if (this.data.repair.phone && this.data.repair.phone.indexOf('*') < 0) wx.makePhoneCall({ phoneNumber: this.data.repair.phone });
    },

    // --- workflow buttons ---------------------------------------------------------------------------
    onAction(e) {
      const action = e.currentTarget.dataset.action;
      const button = BUTTONS.filter(b => b.action === action)[0];
      if (!button || this.data.busy) return undefined;
      if (action === 'complete') {
        this.needsReload = true;
        wx.navigateTo({ url: routes.REPAIR_COMPLETE + '?id=' + this.repairId });
        return undefined;
      }
      if (action === 'assign' || action === 'transfer') {
        return this.onPickWorker({ currentTarget: { dataset: { id: this.repairId, action } } });
      }
      if (action === 'reprioritise') {
        return this.onReprioritise({ currentTarget: { dataset: { id: this.repairId, urgency: this.data.repair.urgency } } });
      }
      if (!button.reason) return this.perform(action, {});
      return dispatch
        .ask({ title: button.label, editable: true, placeholderText: button.prompt, confirmText: '确定' })
        .then(res => {
          if (!res.confirm) return undefined;
          const reason = String(res.content || '').trim();
          if (button.reason === 'required' && !reason) {
            wx.showToast({ title: '请填写原因', icon: 'none' });
            return undefined;
          }
          return this.perform(action, reason ? { reason } : {});
        });
    },

    perform(action, body) {
      this.setData({ busy: true });
      return repairsApi.act(this.repairId, action, body).then(
        repair => {
          this.setData({ busy: false });
          wx.showToast({ title: DONE[action] || '已完成', icon: 'success' });
          this.show(repair);
        },
        () => {
          // request() showed the envelope's message (409: someone else was faster); show what is now.
          this.setData({ busy: false });
          return this.load();
        }
      );
    },

    afterDispatch(repair) {
      if (repair) this.show(repair);
      else return this.load();
      return undefined;
    },

    // --- confirm and rate ---------------------------------------------------------------------------
    onStar(e) {
      this.setData({ rating: Number(e.currentTarget.dataset.n), ratingError: '' });
    },

    onTag(e) {
      const index = Number(e.currentTarget.dataset.index);
      this.setData({ ['tags[' + index + '].on']: !this.data.tags[index].on });
    },

    onComment(e) {
      this.setData({ comment: e.detail.value });
    },

    onConfirm() {
      if (this.data.busy) return undefined;
      if (!this.data.rating) {
        this.setData({ ratingError: '请选择评分' });
        return undefined;
      }
      const body = { rating: this.data.rating, tags: this.data.tags.filter(t => t.on).map(t => t.name) };
      const comment = this.data.comment.trim();
      if (comment) body.comment = comment;
      return this.perform('confirm', body);
    },
  }),
});
