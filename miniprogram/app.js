const session = require('./services/session');
const subscribe = require('./services/subscribe');
const badge = require('./services/badge');

App({
  onLaunch() {
    // Log in early; pages share this login (api/request.js runs one renewal at a time) and show
    // their own errors, so a failure here needs no toast. A bound user's subscribe-message
    // templates are loaded now so a later tap can ask for consent at once (services/subscribe.js).
    session
      .ensureLogin()
      .then(user => (user && user.bound ? subscribe.preload() : undefined))
      .catch(() => {});
  },

  onShow() {
    badge.refresh();
  },
});
