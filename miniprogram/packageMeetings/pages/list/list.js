// 会议签到 home: my meetings (我参加的) and, for staff, those I organise (我组织的); upcoming or past;
// my attendance this term; scan to check in; start a new meeting.
const meetingsApi = require('../../../api/meetings');
const session = require('../../../services/session');
const labels = require('../../../utils/meetings');
const roles = require('../../../utils/roles');
const routes = require('../../../utils/routes');
const scene = require('../../../utils/scene');

const STAFF_ROLES = ['teacher', 'worker', 'dispatcher', 'canteen', 'courier', 'finance', 'admin'];

function item(m) {
  const mine = m.mine;
  let mineText = '';
  if (mine && mine.checked_in_at) mineText = mine.late ? '迟到' : '已签到';
  else if (mine && mine.excused) mineText = '已请假';
  else if (mine && mine.leave && mine.leave.status === 'pending') mineText = '请假待审批';
  return {
    id: m.id,
    title: m.title,
    when: labels.timeRange(m.starts_at, m.ends_at),
    where: m.location,
    phase: m.phase,
    phaseLabel: labels.PHASE_LABELS[m.phase] || '',
    mine: mineText,
    counts: m.counts ? '已签到 ' + m.counts.checked_in + '/' + m.counts.invited : '',
  };
}

Component({
  data: {
    scope: 'invited',
    when: 'upcoming',
    canOrganise: false,
    loading: true,
    error: '',
    items: [],
    rate: '',
  },

  methods: {
    onLoad() {
      const user = session.getUser();
      this.setData({ canOrganise: roles.hasAnyRole(user, STAFF_ROLES) });
    },

    onShow() {
      return Promise.all([this.load(), this.loadHistory()]);
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    load() {
      this.setData({ loading: true, error: '' });
      const params = { scope: this.data.scope, when: this.data.when, page_size: 50 };
      return meetingsApi.list(params, { silent: true }).then(
        list => this.setData({ loading: false, items: list.map(item) }),
        err => this.setData({ loading: false, error: err.message, items: [] })
      );
    },

    loadHistory() {
      return meetingsApi.history({}, { silent: true }).then(
        h => {
          const rate = h.rate === null || h.rate === undefined ? '' : Math.round(h.rate * 100) + '%';
          this.setData({ rate: h.invited ? '本学期出勤率 ' + rate + ' · 迟到 ' + h.late + ' 次' : '' });
        },
        () => this.setData({ rate: '' })
      );
    },

    onScope(e) {
      const scope = e.currentTarget.dataset.scope;
      if (scope === this.data.scope) return undefined;
      this.setData({ scope });
      return this.load();
    },

    onWhen(e) {
      const when = e.currentTarget.dataset.when;
      if (when === this.data.when) return undefined;
      this.setData({ when });
      return this.load();
    },

    open(e) {
      wx.navigateTo({ url: routes.meetings.detail(e.currentTarget.dataset.id) });
    },

    create() {
      wx.navigateTo({ url: routes.meetings.edit() });
    },

    scan() {
      wx.scanCode({
        scanType: ['qrCode', 'wxCode'],
        success: res => {
          const target = scene.parseScanResult(res);
          if (target && (target.type === 'checkin' || target.type === 'meeting')) {
            wx.navigateTo({ url: routes.meetings.checkin(target) });
          } else {
            wx.showToast({ title: '这不是签到码', icon: 'none' });
          }
        },
      });
    },

    goLeaves() {
      wx.navigateTo({ url: routes.meetings.leaves() });
    },
  },
});
