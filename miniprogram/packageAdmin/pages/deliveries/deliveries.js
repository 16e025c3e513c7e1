// 投递失败的消息 (admins): pushes that gave up (status dead), a page at a time, each with a 重试
// that puts it back in the send queue. A retried row leaves the list.
const notificationsApi = require('../../../api/notifications');
const time = require('../../../utils/time');
const paging = require('../../../utils/paging');

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
  data: {
    items: [],
    total: 0,
    loaded: false,
    loading: false,
    loadingMore: false,
    hasMore: false,
    error: '',
  },

  methods: {
    onLoad() {
      return this.reload();
    },

    onPullDownRefresh() {
      return this.reload().then(() => wx.stopPullDownRefresh());
    },

    onReachBottom() {
      return this.loadMore();
    },

    fetch(page) {
      return notificationsApi.listDeliveries({ status: 'dead', page, page_size: paging.PAGE_SIZE }, { silent: true });
    },

    // Pages loaded so far and rows retried since: together they say which page comes next.
    loadedPage(page, res) {
      this.page = page;
      this.removed = 0;
      return {
        total: res.pagination ? res.pagination.total : this.data.total,
        hasMore: paging.hasMore(res.pagination, res.items.length, paging.PAGE_SIZE),
      };
    },

    reload() {
      const seq = (this.seq = (this.seq || 0) + 1);
      this.setData({ loading: true, error: '' });
      return this.fetch(1).then(
        res => {
          if (seq !== this.seq) return;
          this.setData(Object.assign({ loading: false, loaded: true, items: res.items.map(view) }, this.loadedPage(1, res)));
        },
        err => {
          if (seq !== this.seq) return;
          this.setData({ loading: false, error: err.message });
          if (this.data.items.length) wx.showToast({ title: err.message, icon: 'none' });
        }
      );
    },

    loadMore() {
      if (!this.data.hasMore || this.data.loading || this.data.loadingMore) return Promise.resolve();
      const seq = this.seq;
      const page = paging.nextPage(this.page, this.removed, paging.PAGE_SIZE);
      this.setData({ loadingMore: true });
      return this.fetch(page).then(
        res => {
          if (seq !== this.seq) return;
          const items = paging.merge(this.data.items, res.items.map(view));
          this.setData(Object.assign({ loadingMore: false, items }, this.loadedPage(page, res)));
        },
        err => {
          this.setData({ loadingMore: false });
          wx.showToast({ title: err.message, icon: 'none' });
        }
      );
    },

    onRetry(e) {
      const id = e.currentTarget.dataset.id;
      if (this.retrying) return undefined;
      return confirm('将这条消息重新加入发送队列，确定重试？').then(confirmed => {
        if (!confirmed) return undefined;
        this.retrying = true;
        return notificationsApi.retryDelivery(id).then(
          () => {
            this.retrying = false;
            this.removed = (this.removed || 0) + 1;
            const items = this.data.items.filter(item => item.id !== id);
            this.setData({ items, total: Math.max(0, this.data.total - 1) });
            wx.showToast({ title: '已加入重发队列', icon: 'success' });
            return items.length ? undefined : this.loadMore();
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
