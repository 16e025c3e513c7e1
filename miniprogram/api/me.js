// /api/v1/me — the signed-in user and roster binding.
const { request } = require('./request');

function getMe(options) {
  return request(Object.assign({ url: '/api/v1/me' }, options));
}

// payload: {kind: 'staff', number, name, phone_code?} | {kind: 'student', number, name}
//        | {kind: 'parent', student_number, student_name}
function bind(payload, options) {
  return request(Object.assign({ url: '/api/v1/me/bind', method: 'POST', data: payload }, options));
}

module.exports = { getMe, bind };
