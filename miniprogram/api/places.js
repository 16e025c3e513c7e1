// /api/v1/places — campuses, buildings, floors and rooms (each room has a QR code).
const { request } = require('./request');

function getByCode(code, options) {
  return request(Object.assign({ url: '/api/v1/places/by-code/' + encodeURIComponent(code) }, options));
}

module.exports = { getByCode };
