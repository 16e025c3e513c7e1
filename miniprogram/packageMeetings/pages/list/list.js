// 会议签到 home: my meetings (我参加的: staff meetings, and for students and parents the 班会 / 家长会
// they are invited to) and, for staff, those I organise (我组织的); upcoming or past, a page at a time
// (behaviors/list); my attendance this term; scan to check in; staff start a new meeting.
const meetingsApi = require('../../../api/meetings');
const list = require('../../../behaviors/list');
const session = require('../../../services/session');
const labels = require('../../../utils/meetings');
const roles = require('../../../utils/roles');
const routes = require('../../../utils/routes');
const { scanToCheckin } = require('../../lib/scan');

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
  behaviors: [list],

  data: {
    scope: 'invited',
    when: 'upcoming',
    canOrganise: false,
    rate: '',
    pageSize: 50,
  },

  methods: {
    onLoad() {
      const user = session.getUser();
      this.setData({ canOrganise: roles.hasAnyRole(user, STAFF_ROLES) });
    },

    onShow() {
      return Promise.all([this.reload(), this.loadHistory()]);
    },

    fetchPage(page, pageSize) {
      const params = { scope: this.data.scope, when: this.data.when, page_size: pageSize };
      if (page > 1) params.page = page; // the first page is the API's default
      return meetingsApi.list(params, { silent: true });
    },

    listItem: item,

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
      return this.switchList('scope', e.currentTarget.dataset.scope);
    },

    onWhen(e) {
      return this.switchList('when', e.currentTarget.dataset.when);
    },

    open(e) {
      wx.navigateTo({ url: routes.meetings.detail(e.currentTarget.dataset.id) });
    },

    create() {
      wx.navigateTo({ url: routes.meetings.edit() });
    },

    scan: scanToCheckin,

    goLeaves() {
      wx.navigateTo({ url: routes.meetings.leaves() });
    },
  },
});
