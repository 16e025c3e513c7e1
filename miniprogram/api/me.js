// /api/v1/me — the signed-in user, roster binding, and a parent's own guardian requests.
const { request, list } = require('./request');

function getMe(options) {
  return request(Object.assign({ url: '/api/v1/me' }, options));
}

// payload: {kind: 'staff', number, name, phone_code?} | {kind: 'student', number, name}
//        | {kind: 'parent', student_number, student_name, phone_code?, relation?}
// Resolves the profile (bound), or for a parent without a matching phone (202)
// {status: 'pending', message, request} (utils/bind-form.isPending).
function bind(payload, options) {
  return request(Object.assign({ url: '/api/v1/me/bind', method: 'POST', data: payload }, options));
}

// My guardian requests, newest first: params {status: 'pending', page, page_size} -> {items, pagination}
function guardianRequests(params, options) {
  return list('/api/v1/me/guardian-requests', params, options);
}

function withdrawGuardianRequest(id, options) {
  return request(Object.assign({ url: '/api/v1/me/guardian-requests/' + id + '/withdraw', method: 'POST' }, options));
}

module.exports = { getMe, bind, guardianRequests, withdrawGuardianRequest };
