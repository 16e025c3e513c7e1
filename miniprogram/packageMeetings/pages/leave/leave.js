// 请假 (invitee): ask the organiser for leave with a reason; they approve or reject.
const meetingsApi = require('../../../api/meetings');
const meetingPage = require('../../lib/meeting');

Component({
  data: Object.assign({}, meetingPage.data, {
    reason: '',
    reasonError: '',
    submitting: false,
  }),

  methods: {
    onLoad(query) {
      this.meetingId = Number(query && query.id);
      return meetingPage.load(this);
    },

    onReason(e) {
      this.setData({ reason: e.detail.value, reasonError: '' });
    },

    submit() {
      const reason = String(this.data.reason || '').trim();
      if (reason.length < 2) {
        this.setData({ reasonError: '请填写请假事由（至少2个字）' });
        return Promise.resolve();
      }
      if (this.data.submitting) return Promise.resolve();
      this.setData({ submitting: true });
      return meetingsApi.askLeave(this.meetingId, reason, { silent: true }).then(
        () => {
          this.setData({ submitting: false });
          wx.showToast({ title: '已提交，等待审批', icon: 'success' });
          wx.navigateBack({ delta: 1 });
        },
        err => this.setData({ submitting: false, reasonError: err.message })
      );
    },
  },
});
