// /api/v1/console/logins/<token>/… — signing the managers' web console in by scanning its code.
const { request } = require('./request');

function post(token, what, options) {
  return request(Object.assign({ url: '/api/v1/console/logins/' + encodeURIComponent(token) + '/' + what, method: 'POST' }, options));
}

// -> {ip, user_agent, requested_at, expires_at}: who/where is asking
function scan(token, options) {
  return post(token, 'scan', options);
}

// -> {ok: true}: the browser showing the code is signed in as me
function confirm(token, options) {
  return post(token, 'confirm', options);
}

// -> {ok: true}: the code is spent
function reject(token, options) {
  return post(token, 'reject', options);
}

module.exports = { scan, confirm, reject };
