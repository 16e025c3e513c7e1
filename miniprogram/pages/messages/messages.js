// 消息: the in-app inbox, newest first, a page at a time (behaviors/list: the next one on reaching the
// bottom, pull-down refresh, empty and error states).
// Tapping a message marks it read (at once on screen, then on the server) and opens its link when
// it is a page of this mini-program, else shows its text. The tab badge follows the unread count.
const notificationsApi = require('../../api/notifications');
const badge = require('../../services/badge');
const time = require('../../utils/time');
const routes = require('../../utils/routes');
const list = require('../../behaviors/list');

function view(n) {
  return {
    id: n.id,
    title: n.title,
    body: n.body,
    link: n.link,
    read: n.read,
    urgent: n.urgency === 'urgent',
    time: time.formatRelative(n.created_at),
  };
}

Component({
  behaviors: [list],

  data: {
    unread: 0,
    markingAll: false,
  },

  methods: {
    // The first show loads the list; later ones reload it only when the unread count moved, so
    // coming back from a message's page keeps the scroll position.
    onShow() {
      if (!this.data.loaded) return Promise.all([this.reload(), this.refreshBadge()]);
      const before = this.data.unread;
      return this.refreshBadge().then(n => (n !== null && n !== before ? this.reload() : undefined));
    },

    onPullDownRefresh() {
      return Promise.all([this.reload(), this.refreshBadge()]).then(() => wx.stopPullDownRefresh());
    },

    refreshBadge() {
      return badge.refresh().then(n => {
        if (n !== null) this.setData({ unread: n });
        return n;
      });
    },

    fetchPage(page, pageSize) {
      return notificationsApi.list({ page, page_size: pageSize }, { silent: true });
    },

    listItem: view,

    onOpen(e) {
      const id = e.currentTarget.dataset.id;
      const index = this.data.items.map(item => item.id).indexOf(id);
      if (index < 0) return undefined;
      const item = this.data.items[index];
      const marking = item.read ? Promise.resolve() : this.markRead(item, index);
      this.open(item);
      return marking;
    },

    // Shown read at once; put back if the server refuses.
    markRead(item, index) {
      const key = 'items[' + index + '].read';
      const unread = Math.max(0, this.data.unread - 1);
      this.setData({ [key]: true, unread });
      badge.show(unread);
      return notificationsApi.markRead(item.id, { silent: true }).then(
        () => this.refreshBadge(),
        () => {
          if (this.data.items[index] && this.data.items[index].id === item.id) this.setData({ [key]: false });
          return this.refreshBadge();
        }
      );
    },

    open(item) {
      const target = routes.appPage(item.link);
      if (target && target.url !== routes.MESSAGES) {
        if (target.tab) wx.switchTab({ url: target.url });
        else wx.navigateTo({ url: target.url });
        return;
      }
      wx.showModal({ title: item.title, content: item.body, showCancel: false, confirmText: '知道了' });
    },

    onReadAll() {
      if (this.data.markingAll) return undefined;
      this.setData({ markingAll: true });
      return notificationsApi.markAllRead().then(
        () => {
          this.setData({ markingAll: false, unread: 0, items: this.data.items.map(item => Object.assign({}, item, { read: true })) });
          badge.show(0);
          wx.showToast({ title: '已全部标为已读', icon: 'none' });
        },
        () => this.setData({ markingAll: false })
      );
    },

    goBind() {
      wx.switchTab({ url: routes.ME });
    },
  },
});
