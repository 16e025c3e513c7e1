// 请假审批 (organiser): leave requests of my meetings (or of one, ?meeting=<id>), pending first;
// approve or reject, with an optional note the requester will read. A page at a time (behaviors/list).
const meetingsApi = require('../../../api/meetings');
const list = require('../../../behaviors/list');
const labels = require('../../../utils/meetings');
const time = require('../../../utils/time');

function item(l) {
  return {
    id: l.id,
    name: l.name,
    reason: l.reason,
    meetingTitle: l.meeting_title,
    when: time.formatDateTime(l.meeting_starts_at),
    status: l.status,
    statusLabel: labels.LEAVE_LABELS[l.status] || l.status,
    note: l.decision_note || '',
  };
}

function askNote(title) {
  return new Promise(resolve => {
    wx.showModal({
      title,
      editable: true,
      placeholderText: '备注（选填，申请人可见）',
      success: res => resolve(res.confirm ? { note: String(res.content || '').trim() } : null),
      fail: () => resolve(null),
    });
  });
}

Component({
  behaviors: [list],

  data: {
    tab: 'pending',
    pageSize: 100,
  },

  methods: {
    onLoad(query) {
      this.meetingId = query && query.meeting ? Number(query.meeting) : null;
      return this.reload();
    },

    fetchPage(page, pageSize) {
      const params = { page_size: pageSize };
      if (page > 1) params.page = page; // the first page is the API's default
      if (this.meetingId) params.meeting_id = this.meetingId;
      if (this.data.tab === 'pending') params.status = 'pending';
      return meetingsApi.leaves(params, { silent: true });
    },

    listItem: item,

    // 已处理: the API filters by one status; the pending ones are left out here.
    listItems(rows) {
      return this.data.tab === 'pending' ? rows : rows.filter(row => row.status !== 'pending');
    },

    decide(e) {
      const id = e.currentTarget.dataset.id;
      const approve = e.currentTarget.dataset.action === 'approve';
      return askNote(approve ? '批准请假' : '驳回请假').then(answer => {
        if (!answer) return undefined;
        const action = approve ? meetingsApi.approveLeave : meetingsApi.rejectLeave;
        return action(id, answer.note).then(() => {
          wx.showToast({ title: approve ? '已批准' : '已驳回', icon: 'success' });
          return this.reload();
        });
      });
    },
  },
});
