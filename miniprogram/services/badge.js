// The unread count on the 消息 tab (index 1). Refreshed on app show, on the 消息 page's show and
// after marking messages read. wx.setTabBarBadge fails while a non-tab page is on top; the next
// refresh from a tab page fixes it, so failures are ignored.
const notificationsApi = require('../api/notifications');
const tokens = require('./tokens');

const TAB_INDEX = 1;
const MAX_SHOWN = 99;

function ignore() {}

// n unread -> the badge: none for 0, "99+" above 99.
function show(n) {
  const count = Number(n) || 0;
  if (count > 0) {
    wx.setTabBarBadge({ index: TAB_INDEX, text: count > MAX_SHOWN ? MAX_SHOWN + '+' : String(count), fail: ignore });
  } else {
    wx.removeTabBarBadge({ index: TAB_INDEX, fail: ignore });
  }
}

// GET the unread count and show it; resolves with the count (null when it could not be loaded).
// An unbound user has no inbox: nothing is asked.
function refresh() {
  const user = tokens.getUser();
  if (user && !user.bound) {
    show(0);
    return Promise.resolve(0);
  }
  return notificationsApi.unreadCount({ silent: true }).then(
    res => {
      show(res.unread);
      return res.unread;
    },
    err => {
      console.warn('badge: unread count not loaded', err.error_code);
      return null;
    }
  );
}

module.exports = { show, refresh, TAB_INDEX };
