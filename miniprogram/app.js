const session = require('./services/session');

App({
  onLaunch() {
    // Log in early; pages share this login (api/request.js runs one renewal at a time) and show
    // their own errors, so a failure here needs no toast.
    session.ensureLogin().catch(() => {});
  },
});
