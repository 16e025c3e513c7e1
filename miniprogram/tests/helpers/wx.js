// A fresh `wx` per test: in-memory storage, wx.login handing out codes, and wx.request answered
// by a small router of fake backend routes. Every call is a jest.fn, so tests can assert on them.
//
//   const mock = installWx();
//   mock.route('GET', '/api/v1/me', req => [200, user]);    // or a fixed [status, body]
//   mock.route('GET', '/api/v1/me', { fail: 'request:fail timeout' });
//   mock.route('GET', '/api/v1/things', [200, [], { 'X-Pagination': '{"total": 0}' }]);  // + headers
//   mock.requests        // [{method, path, data, header}]
//   mock.uploads         // wx.uploadFile calls: [{path, filePath, name, header, progress(n), succeed(status, body), fail(errMsg)}]
//   mock.autoUpload(req => [201, body])  // answer every later upload at once instead
//   mock.chooseMedia(['tmp/a.jpg'])      // what the next wx.chooseMedia picks
//   mock.payment('cancel')               // how the next wx.requestPayment ends: 'ok' (default), 'cancel', 'fail'
const env = require('../../config/env');

const BASE = 'http://api.test';

function envelope(status, errorCode, message, errors) {
  const names = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Entity', 502: 'Bad Gateway' };
  return { code: status, status: names[status] || 'Error', error_code: errorCode, message, errors: errors || {} };
}

function installWx(options) {
  const opts = options || {};
  const storage = new Map();
  const routes = [];
  const requests = [];
  const uploads = [];
  let uploadAnswer = null;
  let picked = [];
  let paymentEnd = 'ok';
  let loginCount = 0;

  function route(method, path, answer) {
    routes.unshift({ method, path, answer });
  }

  function answerFor(req) {
    const match = routes.filter(r => r.method === req.method && r.path === req.path)[0];
    if (!match) return [404, envelope(404, 'not_found', '没有找到相关内容')];
    return typeof match.answer === 'function' ? match.answer(req) : match.answer;
  }

  const wx = {
    getAccountInfoSync: jest.fn(() => ({ miniProgram: { appId: 'touristappid', envVersion: opts.envVersion || 'develop' } })),
    getStorageSync: jest.fn(key => (storage.has(key) ? storage.get(key) : '')),
    setStorageSync: jest.fn((key, value) => {
      storage.set(key, value);
    }),
    removeStorageSync: jest.fn(key => {
      storage.delete(key);
    }),
    login: jest.fn(o => {
      loginCount += 1;
      const code = 'wx-code-' + loginCount;
      setTimeout(() => o.success({ code, errMsg: 'login:ok' }), 0);
    }),
    request: jest.fn(o => {
      const req = {
        method: o.method || 'GET',
        url: o.url,
        path: o.url.indexOf(BASE) === 0 ? o.url.slice(BASE.length) : o.url,
        data: o.data,
        header: o.header || {},
        timeout: o.timeout,
      };
      requests.push(req);
      setTimeout(() => {
        const answer = answerFor(req);
        if (answer && answer.fail) o.fail({ errMsg: answer.fail });
        else o.success({ statusCode: answer[0], data: answer[1] === undefined ? '' : answer[1], header: answer[2] || {} });
      }, 0);
    }),
    uploadFile: jest.fn(o => {
      const listeners = [];
      const upload = {
        url: o.url,
        path: o.url.indexOf(BASE) === 0 ? o.url.slice(BASE.length) : o.url,
        filePath: o.filePath,
        name: o.name,
        header: o.header || {},
        progress: n => listeners.forEach(fn => fn({ progress: n, totalBytesSent: n, totalBytesExpectedToSend: 100 })),
        succeed: (status, body) => o.success({ statusCode: status, data: typeof body === 'string' ? body : JSON.stringify(body) }),
        fail: errMsg => o.fail({ errMsg: errMsg || 'uploadFile:fail' }),
      };
      uploads.push(upload);
      if (uploadAnswer) {
        setTimeout(() => {
          const answer = uploadAnswer(upload);
          if (answer.fail) upload.fail(answer.fail);
          else upload.succeed(answer[0], answer[1]);
        }, 0);
      }
      return { onProgressUpdate: fn => listeners.push(fn), abort: jest.fn() };
    }),
    chooseMedia: jest.fn(o => {
      const files = picked.slice(0, o.count).map(p => ({ tempFilePath: p, size: 1000, fileType: 'image' }));
      picked = [];
      setTimeout(() => (files.length ? o.success({ tempFiles: files, type: 'image' }) : o.fail({ errMsg: 'chooseMedia:fail cancel' })), 0);
    }),
    requestPayment: jest.fn(o => {
      const end = paymentEnd;
      paymentEnd = 'ok';
      setTimeout(() => {
        if (end === 'ok') o.success({ errMsg: 'requestPayment:ok' });
        else o.fail({ errMsg: end === 'cancel' ? 'requestPayment:fail cancel' : 'requestPayment:fail system error' });
      }, 0);
    }),
    previewImage: jest.fn(),
    makePhoneCall: jest.fn(),
    redirectTo: jest.fn(),
    navigateBack: jest.fn(),
    showToast: jest.fn(),
    showModal: jest.fn(o => setTimeout(() => o.success && o.success({ confirm: opts.confirm !== false, cancel: opts.confirm === false }), 0)),
    navigateTo: jest.fn(),
    switchTab: jest.fn(),
    stopPullDownRefresh: jest.fn(),
    setNavigationBarTitle: jest.fn(),
    scanCode: jest.fn(),
    setTabBarBadge: jest.fn(),
    removeTabBarBadge: jest.fn(),
    // Every template accepted unless a test says otherwise.
    requestSubscribeMessage: jest.fn(o => {
      const res = { errMsg: 'requestSubscribeMessage:ok' };
      o.tmplIds.forEach(id => {
        res[id] = 'accept';
      });
      setTimeout(() => o.success(res), 0);
    }),
  };

  global.wx = wx;
  env.setBaseUrl(BASE);

  return {
    wx,
    storage,
    requests,
    uploads,
    route,
    autoUpload: fn => {
      uploadAnswer = fn;
    },
    chooseMedia: paths => {
      picked = paths;
    },
    payment: end => {
      paymentEnd = end;
    },
    // Requests to one endpoint, e.g. mock.calls('POST', '/api/v1/auth/wechat-login')
    calls: (method, path) => requests.filter(r => r.method === method && r.path === path),
    toasts: () => wx.showToast.mock.calls.map(c => c[0].title),
  };
}

// Wait until every queued timer-driven fake response and promise continuation has run.
function flush(rounds) {
  let p = Promise.resolve();
  for (let i = 0; i < (rounds || 10); i += 1) p = p.then(() => new Promise(resolve => setTimeout(resolve, 0)));
  return p;
}

module.exports = { installWx, envelope, flush, BASE };
