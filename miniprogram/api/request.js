// The only caller of wx.request.
//
//   request({url, method, data, auth = true, silent = false, timeout}) -> Promise<body>
//   request({..., withHeaders: true})                                   -> Promise<{data, header}>
//   list(path, params, options)      -> Promise<{items, pagination}>   (a paginated GET)
//   download(path, params)           -> Promise<tempFilePath>           (wx.downloadFile, no toast)
//
// Success means a 2xx statusCode. Anything else rejects with an ApiError built from the error
// envelope, after a Chinese toast unless `silent`. On 401 the session is renewed once (refresh
// token first, then wx.login; concurrent callers share one renewal) and the request is retried
// once; a second 401 clears the session and rejects.
const env = require('../config/env');
const tokens = require('../services/tokens');
const errors = require('./errors');

let reauthenticator = null;
let renewing = null;

// services/session.js registers the function that obtains fresh tokens (refresh, else wx.login).
function setReauthenticator(fn) {
  reauthenticator = fn;
}

function hex(length) {
  let out = '';
  for (let i = 0; i < length; i += 1) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

// A UUID v4 string: lets the backend's JSON logs follow one tap across services.
function requestId() {
  const variant = '89ab'[Math.floor(Math.random() * 4)];
  return hex(8) + '-' + hex(4) + '-4' + hex(3) + '-' + variant + hex(3) + '-' + hex(12);
}

function send(opts, accessToken) {
  return new Promise((resolve, reject) => {
    const header = { 'X-Request-ID': requestId() };
    if (accessToken) header.Authorization = 'Bearer ' + accessToken;
    wx.request({
      url: env.getBaseUrl() + opts.url,
      method: opts.method,
      data: opts.data,
      header,
      dataType: 'json',
      timeout: opts.timeout || env.REQUEST_TIMEOUT_MS,
      success: resolve,
      fail: res => reject(errors.networkError(res)),
    });
  });
}

// -> {data, header}: `data` is null for 204 or an empty body.
function exchange(opts, accessToken) {
  return send(opts, accessToken).then(res => {
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return { data: res.statusCode === 204 || res.data === '' ? null : res.data, header: res.header || {} };
    }
    throw errors.fromResponse(res);
  });
}

// Single flight: every caller that saw `staleToken` rejected waits on the same renewal. A caller
// whose token was already replaced by someone else's renewal just retries with the new one.
function renewSession(staleToken) {
  const current = tokens.getAccessToken();
  if (current && current !== staleToken && !tokens.isAccessExpired()) return Promise.resolve();
  if (!renewing) {
    if (!reauthenticator) {
      return Promise.reject(new errors.ApiError({ statusCode: 401, error_code: 'auth.login_required' }));
    }
    renewing = Promise.resolve()
      .then(() => reauthenticator())
      .then(
        () => {
          renewing = null;
        },
        err => {
          renewing = null;
          tokens.clear();
          throw err;
        }
      );
  }
  return renewing;
}

function authorised(opts, alreadyRenewed) {
  const token = tokens.getAccessToken();
  return exchange(opts, token).catch(err => {
    if (err.statusCode !== 401) throw err;
    if (alreadyRenewed) {
      tokens.clear();
      throw err;
    }
    return renewSession(token).then(() => authorised(opts, true));
  });
}

function attempt(opts) {
  if (!opts.auth) return exchange(opts, null);
  const token = tokens.getAccessToken();
  if (!token || tokens.isAccessExpired()) {
    return renewSession(token).then(() => authorised(opts, true));
  }
  return authorised(opts, false);
}

function toast(message) {
  wx.showToast({ title: message, icon: 'none', duration: 2500 });
}

function request(options) {
  const opts = Object.assign({ method: 'GET', auth: true, silent: false, withHeaders: false }, options);
  opts.method = String(opts.method).toUpperCase();
  return attempt(opts).then(res => (opts.withHeaders ? res : res.data)).catch(err => {
    const apiError = err instanceof errors.ApiError ? err : new errors.ApiError({ cause: err });
    if (!opts.silent) toast(apiError.message);
    throw apiError;
  });
}

// A response header by name, whatever its case (HTTP/2 and some clients lower-case names).
function headerValue(header, name) {
  const wanted = name.toLowerCase();
  const key = Object.keys(header || {}).filter(k => k.toLowerCase() === wanted)[0];
  return key === undefined ? undefined : header[key];
}

// The X-Pagination header of a paginated list: {total, total_pages, page, next_page?, …} or null.
function pagination(header) {
  const value = headerValue(header, 'X-Pagination');
  if (!value) return null;
  if (typeof value === 'object') return value;
  try {
    return JSON.parse(value);
  } catch (e) {
    return null;
  }
}

// Keeps only the query parameters that are set (undefined, null and '' are left out).
function query(params) {
  const out = {};
  Object.keys(params || {}).forEach(key => {
    if (params[key] !== undefined && params[key] !== null && params[key] !== '') out[key] = params[key];
  });
  return out;
}

function queryString(params) {
  const set = query(params);
  const parts = Object.keys(set).map(key => encodeURIComponent(key) + '=' + encodeURIComponent(set[key]));
  return parts.length ? '?' + parts.join('&') : '';
}

// A paginated list (flask-smorest's page/page_size and X-Pagination header):
//   list('/api/v1/things', {page, page_size, ...filters}, {silent}) -> {items, pagination}
// `pagination` is the parsed header ({total, total_pages, page, next_page?, …}) or null.
function list(path, params, options) {
  return request(Object.assign({ url: path, data: query(params), withHeaders: true }, options)).then(res => ({
    items: res.data || [],
    pagination: pagination(res.header),
  }));
}

// The error of a download that did not answer 200: its body (the error envelope) was saved to the
// temp file; read it when the file system allows, else fall back to the texts by status.
function downloadError(res) {
  let body = {};
  try {
    const text = wx.getFileSystemManager().readFileSync(res.tempFilePath, 'utf8');
    body = JSON.parse(text);
  } catch (e) {
    body = {};
  }
  return errors.fromResponse({ statusCode: res.statusCode, data: body });
}

function downloadOnce(url, token) {
  return new Promise((resolve, reject) => {
    wx.downloadFile({
      url,
      header: { Authorization: 'Bearer ' + token },
      success: res => (res.statusCode === 200 ? resolve(res.tempFilePath) : reject(downloadError(res))),
      fail: res => reject(errors.networkError(res)),
    });
  });
}

// A file the API serves (an .xlsx export, a door-code PNG) through wx.downloadFile, which does not
// go through wx.request: the bearer token is added here, the session is renewed first when there is
// none or it has expired, and once more on a 401. Resolves the temp file path; rejects with an
// ApiError and no toast (the page says what went wrong).
function download(path, params) {
  const url = env.getBaseUrl() + path + queryString(params);
  const token = tokens.getAccessToken();
  const ready = !token || tokens.isAccessExpired() ? renewSession(token) : Promise.resolve();
  let sent = null;
  const once = () => {
    sent = tokens.getAccessToken();
    return downloadOnce(url, sent);
  };
  return ready
    .then(once)
    .catch(err => {
      if (err.statusCode !== 401 || sent === null) throw err;
      return renewSession(sent).then(() => downloadOnce(url, tokens.getAccessToken()));
    })
    .catch(err => {
      throw err instanceof errors.ApiError ? err : new errors.ApiError({ cause: err });
    });
}

module.exports = {
  request,
  list,
  download,
  query,
  headerValue,
  pagination,
  renewSession,
  setReauthenticator,
  ApiError: errors.ApiError,
};
