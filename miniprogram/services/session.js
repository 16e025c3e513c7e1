// The signed-in session: wx.login -> POST /api/v1/auth/wechat-login -> tokens in storage.
const { request, renewSession, setReauthenticator, ApiError } = require('../api/request');
const authApi = require('../api/auth');
const meApi = require('../api/me');
const tokens = require('./tokens');

// Auth calls made on behalf of another request stay quiet: that request shows the error.
const QUIET = { silent: true };

function wxLogin() {
  return new Promise((resolve, reject) => {
    const failed = () => reject(new ApiError({ error_code: 'wechat.login_failed' }));
    wx.login({
      success: res => (res && res.code ? resolve(res.code) : failed()),
      fail: failed,
    });
  });
}

function store(result) {
  tokens.save(result);
  return result.user || tokens.getUser();
}

function login() {
  return wxLogin()
    .then(code => authApi.wechatLogin(code, QUIET))
    .then(store);
}

function refresh() {
  const refreshToken = tokens.getRefreshToken();
  if (!refreshToken) return Promise.reject(new ApiError({ statusCode: 401, error_code: 'auth.invalid_refresh_token' }));
  return authApi.refresh(refreshToken, QUIET).then(store);
}

// Used by api/request.js on a 401: rotate the refresh token, else log in again with wx.login.
// A network failure is not retried through wx.login: it would fail the same way.
function reauthenticate() {
  return refresh().catch(err => {
    if (err.error_code === 'network_error' || err.error_code === 'network_timeout') throw err;
    return login();
  });
}

// Ends the server-side session when it can; the local session is cleared either way.
function logout() {
  const refreshToken = tokens.getRefreshToken();
  const clear = () => {
    tokens.clear();
  };
  if (!refreshToken) {
    clear();
    return Promise.resolve();
  }
  return authApi.logout(refreshToken, QUIET).then(clear, clear);
}

function getUser() {
  return tokens.getUser();
}

function setUser(user) {
  tokens.setUser(user);
}

// GET /api/v1/me and cache it; `options` are passed to request() (e.g. {silent: true}).
function fetchUser(options) {
  return meApi.getMe(options).then(user => {
    tokens.setUser(user);
    return user;
  });
}

// Resolves with the cached user once a session exists; shares the in-flight login, if any.
function ensureLogin() {
  if (tokens.getAccessToken() && !tokens.isAccessExpired()) return Promise.resolve(tokens.getUser());
  return renewSession(tokens.getAccessToken()).then(() => tokens.getUser());
}

function isLoggedIn() {
  return Boolean(tokens.getAccessToken());
}

setReauthenticator(reauthenticate);

module.exports = {
  login,
  refresh,
  reauthenticate,
  logout,
  getUser,
  setUser,
  fetchUser,
  ensureLogin,
  isLoggedIn,
};
