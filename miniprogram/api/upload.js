// Files that go up with wx.uploadFile (multipart field `file`), the one upload that does not go
// through api/request.js: upload() adds the bearer token itself, renews the session once on a 401
// (through request.renewSession) and hands back the UploadTask so the page can show progress. Used
// by repair photos (api/repairs.js) and dish photos (api/canteen.js).
const env = require('../config/env');
const tokens = require('../services/tokens');
const errors = require('./errors');
const { renewSession } = require('./request');

// A URL the API gave (photos are relative to the API host) -> an absolute one for <image src>.
function absoluteUrl(url) {
  if (!url) return '';
  return /^https?:\/\//.test(url) ? url : env.getBaseUrl() + url;
}

function uploadError(res) {
  let body = res.data;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch (e) {
      body = {};
    }
  }
  return errors.fromResponse({ statusCode: res.statusCode, data: body });
}

// One upload attempt: resolves with the wx.uploadFile response, reports the task to onTask.
function sendFile(url, filePath, onTask) {
  return new Promise((resolve, reject) => {
    const task = wx.uploadFile({
      url: env.getBaseUrl() + url,
      filePath,
      name: 'file',
      header: { Authorization: 'Bearer ' + tokens.getAccessToken() },
      timeout: 60000,
      success: resolve,
      fail: res => reject(errors.networkError(res)),
    });
    if (onTask) onTask(task);
  });
}

// upload(url, filePath, {onProgress?(percent), onTask?(task)}) -> Promise<the answer's JSON body>.
// Rejects with an ApiError (no toast: the page says what failed, where it shows the file).
function upload(url, filePath, opts) {
  const o = opts || {};
  const onTask = task => {
    if (task && o.onProgress && task.onProgressUpdate) task.onProgressUpdate(res => o.onProgress(res.progress));
    if (o.onTask) o.onTask(task);
  };
  const once = () =>
    sendFile(url, filePath, onTask).then(res => {
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return typeof res.data === 'string' ? JSON.parse(res.data) : res.data;
      }
      throw uploadError(res);
    });
  const token = tokens.getAccessToken();
  const ready = !token || tokens.isAccessExpired() ? renewSession(token) : Promise.resolve();
  return ready.then(once).catch(err => {
    if (err.statusCode !== 401) throw err;
    return renewSession(tokens.getAccessToken()).then(once);
  });
}

module.exports = { absoluteUrl, upload };
