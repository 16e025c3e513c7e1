// 签到情况 (organiser): the figures, a tab per list (已签到 / 迟到 / 请假 / 缺席), per department,
// manual check-in or take-back with a reason, and the .xlsx export. The tab's list comes a page at a
// time (behaviors/list: more at the bottom of the page).
const meetingsApi = require('../../../api/meetings');
const list = require('../../../behaviors/list');
const labels = require('../../../utils/meetings');

function row(a) {
  return {
    id: a.user_id,
    userId: a.user_id,
    name: a.name,
    department: a.department || '',
    status: a.status,
    statusLabel: labels.ATTENDANCE_LABELS[a.status] || a.status_label,
    at: a.checked_in_at ? labels.clock(a.checked_in_at) : '',
    manual: a.check_in_via === 'manual',
    leave: a.leave ? a.leave.reason + '（' + (labels.LEAVE_LABELS[a.leave.status] || '') + '）' : '',
    checkedIn: Boolean(a.checked_in_at),
  };
}

// The modal's text box: resolves the reason, or null when cancelled or left empty.
function askReason(title) {
  return new Promise(resolve => {
    wx.showModal({
      title,
      editable: true,
      placeholderText: '请填写原因（必填，将记录在案）',
      success: res => {
        const reason = res.confirm ? String(res.content || '').trim() : '';
        if (res.confirm && reason.length < 2) wx.showToast({ title: '请填写原因', icon: 'none' });
        resolve(reason.length >= 2 ? reason : null);
      },
      fail: () => resolve(null),
    });
  });
}

Component({
  behaviors: [list],

  data: {
    summaryLoading: true,
    summaryError: '',
    summary: null,
    tabs: labels.REPORT_TABS,
    active: 'checked_in',
    departments: [],
    pageSize: 100,
  },

  methods: {
    onLoad(query) {
      this.meetingId = Number(query && query.id);
      if (query && query.tab) this.setData({ active: query.tab });
      return this.refresh();
    },

    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh());
    },

    refresh() {
      return Promise.all([this.loadSummary(), this.reload()]);
    },

    loadSummary() {
      return meetingsApi.attendance(this.meetingId, { silent: true }).then(
        summary => {
          wx.setNavigationBarTitle({ title: summary.title });
          this.setData({
            summaryLoading: false,
            summary,
            tabs: labels.REPORT_TABS.map(t => Object.assign({}, t, { count: summary[t.key] })),
            departments: summary.by_department,
          });
        },
        err => this.setData({ summaryLoading: false, summaryError: err.message })
      );
    },

    fetchPage(page, pageSize) {
      const params = { status: this.data.active, page_size: pageSize };
      if (page > 1) params.page = page; // the first page is the API's default
      return meetingsApi.attendees(this.meetingId, params, { silent: true });
    },

    listItem: row,

    onTab(e) {
      return this.switchList('active', e.currentTarget.dataset.status);
    },

    onRow(e) {
      const userId = e.currentTarget.dataset.id;
      const target = this.data.items.filter(r => r.userId === userId)[0];
      if (!target) return Promise.resolve();
      const undo = target.checkedIn;
      return askReason(undo ? '撤销' + target.name + '的签到' : '为' + target.name + '手动签到').then(reason => {
        if (!reason) return undefined;
        const action = undo ? meetingsApi.undoCheckIn : meetingsApi.manualCheckIn;
        return action(this.meetingId, userId, reason).then(() => {
          wx.showToast({ title: undo ? '已撤销签到' : '已签到', icon: 'success' });
          return this.refresh();
        });
      });
    },

    exportSheet() {
      wx.showLoading({ title: '正在导出' });
      return meetingsApi.downloadExport(this.meetingId).then(
        filePath => {
          wx.hideLoading();
          wx.openDocument({ filePath, fileType: 'xlsx', showMenu: true });
        },
        err => {
          wx.hideLoading();
          wx.showToast({ title: err.message, icon: 'none' });
        }
      );
    },
  },
});
