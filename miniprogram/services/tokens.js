// Token and cached-user storage. Kept apart from session.js so api/request.js can read tokens
// without depending on the login flow (session.js depends on request.js, not the reverse).

const KEYS = {
  access: 'session.access_token',
  refresh: 'session.refresh_token',
  expiresAt: 'session.access_expires_at',
  user: 'session.user',
};

// Renew a little before the server's expiry so a request does not race the deadline.
const EXPIRY_MARGIN_MS = 30 * 1000;

function read(key) {
  try {
    return wx.getStorageSync(key) || null;
  } catch (e) {
    return null;
  }
}

function write(key, value) {
  try {
    wx.setStorageSync(key, value);
  } catch (e) {
    // Storage full or unavailable: the session still works for this run from the next login.
  }
}

function remove(key) {
  try {
    wx.removeStorageSync(key);
  } catch (e) {
    // Nothing stored or storage unavailable.
  }
}

function getAccessToken() {
  return read(KEYS.access);
}

function getRefreshToken() {
  return read(KEYS.refresh);
}

function isAccessExpired(now) {
  const expiresAt = read(KEYS.expiresAt);
  return Boolean(expiresAt) && (now || Date.now()) >= expiresAt - EXPIRY_MARGIN_MS;
}

function getUser() {
  return read(KEYS.user);
}

function setUser(user) {
  write(KEYS.user, user);
}

// `result` is the login/refresh response: {access_token, refresh_token, expires_in, user}.
function save(result) {
  write(KEYS.access, result.access_token);
  write(KEYS.refresh, result.refresh_token);
  if (result.expires_in) write(KEYS.expiresAt, Date.now() + result.expires_in * 1000);
  else remove(KEYS.expiresAt);
  if (result.user) setUser(result.user);
}

function clear() {
  Object.keys(KEYS).forEach(name => remove(KEYS[name]));
}

module.exports = {
  getAccessToken,
  getRefreshToken,
  isAccessExpired,
  getUser,
  setUser,
  save,
  clear,
};
