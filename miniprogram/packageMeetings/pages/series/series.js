// 周期会议 (organiser): a weekly series — its rule in words, until when, its next meetings (one tap
// opens each) — with 编辑周期会议 (title, time of day, place, invitees …: the meetings not yet started
// and not edited on their own follow) and 停止周期会议 (its meetings not yet started are cancelled).
const meetingsApi = require('../../../api/meetings');
const labels = require('../../../utils/meetings');
const routes = require('../../../utils/routes');
const time = require('../../../utils/time');

const NEXT_SHOWN = 6;
const LIVE = ['upcoming', 'open', 'in_progress'];

function untilText(until) {
  if (!until) return '';
  const parts = String(until).split('-').map(Number);
  return parts.length === 3 ? '至 ' + parts[0] + '年' + parts[1] + '月' + parts[2] + '日' : '';
}

function occurrence(o) {
  return {
    id: o.id,
    when: labels.timeRange(o.starts_at, o.ends_at),
    phaseLabel: o.status === 'cancelled' ? '已取消' : labels.PHASE_LABELS[o.phase] || '',
    phase: o.status === 'cancelled' ? 'cancelled' : o.phase,
    detached: Boolean(o.detached),
  };
}

function confirmStop() {
  return new Promise(resolve => {
    wx.showModal({
      title: '停止周期会议',
      content: '停止后，未开始的会议将被取消',
      confirmText: '停止',
      confirmColor: '#fa5151',
      cancelText: '不停止',
      success: res => resolve(Boolean(res.confirm)),
      fail: () => resolve(false),
    });
  });
}

Component({
  data: {
    loading: true,
    error: '',
    series: null,
    rule: '',
    weekly: '',
    until: '',
    active: false,
    next: [],
    later: 0,
    stopping: false,
  },

  methods: {
    onLoad(query) {
      this.seriesId = Number(query && query.id);
    },

    // Also when coming back from 编辑周期会议.
    onShow() {
      return this.load();
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    load() {
      return meetingsApi.getSeries(this.seriesId, { silent: true }).then(
        series => this.show(series),
        err => this.setData({ loading: false, error: err.message })
      );
    },

    show(series) {
      const now = Date.now();
      const coming = (series.occurrences || []).filter(
        o => time.parseISO(o.ends_at) > now && (o.status === 'cancelled' || LIVE.indexOf(o.phase) >= 0)
      );
      this.setData({
        loading: false,
        error: '',
        series,
        rule: series.description || '',
        weekly: labels.weeklyText(series),
        until: untilText(series.until),
        active: series.status === 'active',
        next: coming.slice(0, NEXT_SHOWN).map(occurrence),
        later: Math.max(0, coming.length - NEXT_SHOWN),
      });
      wx.setNavigationBarTitle({ title: series.title });
    },

    open(e) {
      wx.navigateTo({ url: routes.meetings.detail(e.currentTarget.dataset.id) });
    },

    edit() {
      wx.navigateTo({ url: routes.meetings.editSeries(this.seriesId) });
    },

    stop() {
      if (this.data.stopping) return Promise.resolve();
      return confirmStop().then(confirmed => {
        if (!confirmed) return undefined;
        this.setData({ stopping: true });
        return meetingsApi.cancelSeries(this.seriesId, '').then(
          series => {
            this.setData({ stopping: false });
            wx.showToast({ title: '周期会议已停止', icon: 'success' });
            this.show(series);
          },
          () => this.setData({ stopping: false }) // request() has said why
        );
      });
    },
  },
});
