// /api/v1/departments — the school's departments (处室 / 教研组).
const { request } = require('./request');

function departments(options) {
  return request(Object.assign({ url: '/api/v1/departments' }, options));
}

module.exports = { departments };
