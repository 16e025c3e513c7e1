// A `wx` whose request and uploadFile go to the live backend through Node's fetch (for e2e tests).
const fs = require('fs');

function respond(o, res) {
  return res.text().then(text => {
    let data = text;
    try {
      data = text ? JSON.parse(text) : '';
    } catch (e) {
      // not JSON: wx hands the raw text over too
    }
    return { statusCode: res.status, data, header: Object.fromEntries(res.headers.entries()) };
  });
}

function fetchWx(loginCode) {
  const storage = new Map();
  return {
    getAccountInfoSync: () => ({ miniProgram: { appId: 'touristappid', envVersion: 'develop' } }),
    getStorageSync: key => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, value),
    removeStorageSync: key => storage.delete(key),
    login: jest.fn(o => setTimeout(() => o.success({ code: loginCode, errMsg: 'login:ok' }), 0)),
    showToast: jest.fn(),
    request(o) {
      const method = (o.method || 'GET').toUpperCase();
      const headers = Object.assign({}, o.header);
      let url = o.url;
      let body;
      if (method === 'GET' && o.data) {
        url += (url.indexOf('?') < 0 ? '?' : '&') + new URLSearchParams(o.data).toString();
      } else if (o.data !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(o.data);
      }
      fetch(url, { method, headers, body, signal: AbortSignal.timeout(o.timeout || 60000) })
        .then(res => respond(o, res))
        .then(o.success, err => o.fail({ errMsg: 'request:fail ' + err.message }));
    },
    // wx.uploadFile: `data` is the response text, as on a phone.
    uploadFile(o) {
      const form = new FormData();
      form.append(o.name, new Blob([fs.readFileSync(o.filePath)], { type: 'image/jpeg' }), 'photo.jpg');
      const progress = [];
      fetch(o.url, { method: 'POST', headers: o.header, body: form, signal: AbortSignal.timeout(o.timeout || 60000) })
        .then(res => res.text().then(text => ({ statusCode: res.status, data: text })))
        .then(res => {
          progress.forEach(cb => cb({ progress: 100 }));
          o.success(res);
        }, err => o.fail({ errMsg: 'uploadFile:fail ' + err.message }));
      return { onProgressUpdate: cb => progress.push(cb) };
    },
  };
}

module.exports = { fetchWx };
