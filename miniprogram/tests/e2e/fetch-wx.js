// `wx` for the e2e tests: in-memory storage, wx.login handing out `loginCode`, and wx.request /
// wx.uploadFile / wx.downloadFile implemented by Node's fetch (uploadFile: multipart FormData from a
// local file; downloadFile: the body saved to a temp file, whatever the status, like WeChat) against
// the live backend; getFileSystemManager().readFileSync reads those files.
const fs = require('fs');
const os = require('os');
const path = require('path');

let downloads = 0;
let downloadDir = null;

// The temp files downloadFile wrote (call from afterAll).
function removeDownloads() {
  if (downloadDir) fs.rmSync(downloadDir, { recursive: true, force: true });
  downloadDir = null;
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
    // The payer pays at once, as a phone would after 确认支付: the simulator pays the order of the prepay
    // id in `package` and posts WeChat Pay's notification to the backend.
    requestPayment(o) {
      const prepayId = String(o.package || '').replace(/^prepay_id=/, '');
      const sim = process.env.E2E_SIM_BASE;
      if (!sim) throw new Error('E2E_SIM_BASE is not set: tests/e2e/globalSetup.js did not start the simulator');
      fetch(sim + '/__sim__/pay/prepays/' + encodeURIComponent(prepayId) + '/pay', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(10000),
      })
        .then(res => (res.ok ? o.success({ errMsg: 'requestPayment:ok' }) : o.fail({ errMsg: 'requestPayment:fail ' + res.status })))
        .catch(err => o.fail({ errMsg: 'requestPayment:fail ' + err.message }));
    },
    uploadFile(o) {
      const listeners = [];
      const form = new FormData();
      form.append(o.name, new Blob([fs.readFileSync(o.filePath)]), path.basename(o.filePath));
      Object.keys(o.formData || {}).forEach(key => form.append(key, o.formData[key]));
      fetch(o.url, { method: 'POST', headers: Object.assign({}, o.header), body: form, signal: AbortSignal.timeout(o.timeout || 60000) })
        .then(res =>
          res.text().then(text => {
            listeners.forEach(fn => fn({ progress: 100 }));
            o.success({ statusCode: res.status, data: text }); // a string, like wx.uploadFile
          })
        )
        .catch(err => o.fail({ errMsg: 'uploadFile:fail ' + err.message }));
      return { onProgressUpdate: fn => listeners.push(fn), abort() {} };
    },
    downloadFile(o) {
      fetch(o.url, { headers: Object.assign({}, o.header), signal: AbortSignal.timeout(o.timeout || 60000) })
        .then(res =>
          res.arrayBuffer().then(body => {
            downloads += 1;
            if (!downloadDir) downloadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-e2e-download-'));
            const tempFilePath = path.join(downloadDir, 'file-' + downloads);
            fs.writeFileSync(tempFilePath, Buffer.from(body));
            o.success({ statusCode: res.status, tempFilePath });
          })
        )
        .catch(err => o.fail({ errMsg: 'downloadFile:fail ' + err.message }));
    },
    getFileSystemManager() {
      return { readFileSync: (filePath, encoding) => fs.readFileSync(filePath, encoding) };
    },
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
        .then(res =>
          res.text().then(text => {
            let data = text;
            try {
              data = text ? JSON.parse(text) : '';
            } catch (e) {
              // not JSON: wx.request hands the raw text over too
            }
            o.success({ statusCode: res.status, data, header: Object.fromEntries(res.headers.entries()) });
          })
        )
        .catch(err => o.fail({ errMsg: 'request:fail ' + err.message }));
    },
  };
}

module.exports = { fetchWx, removeDownloads };
