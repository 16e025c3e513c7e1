// The only caller of wx.request (and of wx.uploadFile, for photos).
//
//   request({url, method, data, auth = true, silent = false, timeout}) -> Promise<body>
//   upload({url, filePath, name, formData, onProgress}) -> Promise<body>
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
  if (opts.filePath) return sendFile(opts, accessToken);
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

// wx.uploadFile (multipart, field `name`): its `data` is the response text, parsed here so the rest
// of the pipeline (2xx check, error envelope, 401 renewal) treats an upload like any request.
function sendFile(opts, accessToken) {
  return new Promise((resolve, reject) => {
    const header = { 'X-Request-ID': requestId() };
    if (accessToken) header.Authorization = 'Bearer ' + accessToken;
    const task = wx.uploadFile({
      url: env.getBaseUrl() + opts.url,
      filePath: opts.filePath,
      name: opts.name || 'file',
      formData: opts.formData,
      header,
      timeout: opts.timeout || env.UPLOAD_TIMEOUT_MS,
      success: res => {
        let data = res.data;
        try {
          data = typeof data === 'string' && data ? JSON.parse(data) : data;
        } catch (e) {
          // not JSON (a proxy's HTML error page): the status code speaks for itself
        }
        resolve({ statusCode: res.statusCode, data });
      },
      fail: res => reject(errors.networkError(res)),
    });
    if (task && opts.onProgress && task.onProgressUpdate) {
      task.onProgressUpdate(p => opts.onProgress(p.progress));
    }
  });
}

function exchange(opts, accessToken) {
  return send(opts, accessToken).then(res => {
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return res.statusCode === 204 || res.data === '' ? null : res.data;
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
  const opts = Object.assign({ method: 'GET', auth: true, silent: false }, options);
  opts.method = String(opts.method).toUpperCase();
  return attempt(opts).catch(err => {
    const apiError = err instanceof errors.ApiError ? err : new errors.ApiError({ cause: err });
    if (!opts.silent) toast(apiError.message);
    throw apiError;
  });
}

// upload({url, filePath, name = 'file', formData, onProgress(percent)}) -> Promise<body>: a multipart
// upload through wx.uploadFile with the same auth, renewal and errors as request().
function upload(options) {
  return request(Object.assign({ method: 'POST' }, options));
}

// A URL from the API (photo links are relative to the API host; S3 links are absolute).
function absoluteUrl(url) {
  if (!url) return '';
  return /^https?:\/\//.test(url) ? url : env.getBaseUrl() + url;
}

module.exports = {
  request,
  upload,
  absoluteUrl,
  renewSession,
  setReauthenticator,
  ApiError: errors.ApiError,
};
