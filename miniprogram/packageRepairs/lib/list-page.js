// What the repair lists (我的报修, 维修任务, 派单调度) share, mixed into a page's methods next to
// behaviors/list: rows drawn by view.summary that open the detail page, the first load, a reload on
// coming back (a detail may have changed a row), and a 开启…提醒 button.
const routes = require('../../utils/routes');
const subscribe = require('../../services/subscribe');
const view = require('./view');

const methods = {
  onLoad() {
    this.loadedOnce = true;
    return this.reload();
  },

  onShow() {
    return this.loadedOnce && this.data.loaded ? this.reload() : undefined;
  },

  listItem: view.summary,

  onOpen(e) {
    wx.navigateTo({ url: routes.repairUrl(e.currentTarget.dataset.id) });
  },
};

// A 开启…提醒 tap: asks WeChat for `event`'s subscribe message first thing (the dialog shows only
// from a user gesture), then says whether it was accepted.
function subscribeTap(event, acceptedTitle) {
  return function onSubscribe() {
    return subscribe.askFor([event]).then(res => {
      wx.showToast({ title: res.accepted.length ? acceptedTitle : '未开启提醒', icon: 'none' });
    });
  };
}

module.exports = { methods, subscribeTap };
