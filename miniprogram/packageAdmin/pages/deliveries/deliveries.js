// 投递失败的消息 (admins): pushes that gave up (status dead), a page at a time, each with a 重试
// that puts it back in the send queue. A retried row leaves the list (behaviors/list: paging,
// pull-down refresh, empty and error states).
const notificationsApi = require('../../../api/notifications');
const time = require('../../../utils/time');
const list = require('../../../behaviors/list');

const CHANNEL_LABELS = { subscribe: '订阅消息', wecom: '企业微信' };

function view(d) {
  return {
    id: d.id,
    title: d.title,
    channel: CHANNEL_LABELS[d.channel] || d.channel,
    error: d.last_error || '未知错误',
    attempts: d.attempts,
    userId: d.user_id,
    time: time.formatDateTime(d.next_attempt_at),
  };
}

function confirm(content) {
  return new Promise(resolve => {
    wx.showModal({
      title: '重新发送',
      content,
      confirmText: '重试',
      success: res => resolve(res.confirm),
      fail: () => resolve(false),
    });
  });
}

Component({
  behaviors: [list],

  methods: {
    onLoad() {
      return this.reload();
    },

    fetchPage(page, pageSize) {
      return notificationsApi.listDeliveries({ status: 'dead', page, page_size: pageSize }, { silent: true });
    },

    listItem: view,

    onRetry(e) {
      const id = e.currentTarget.dataset.id;
      if (this.retrying) return undefined;
      return confirm('将这条消息重新加入发送队列，确定重试？').then(confirmed => {
        if (!confirmed) return undefined;
        this.retrying = true;
        return notificationsApi.retryDelivery(id).then(
          () => {
            this.retrying = false;
            wx.showToast({ title: '已加入重发队列', icon: 'success' });
            return this.removeItem(id);
          },
          () => {
            // request() has shown why (e.g. 409: no longer dead); the list stays as it is.
            this.retrying = false;
          }
        );
      });
    },
  },
});
