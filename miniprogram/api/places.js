// /api/v1/places — campuses, buildings, floors and rooms (each room has a QR code).
const { request } = require('./request');

function getByCode(code, options) {
  return request(Object.assign({ url: '/api/v1/places/by-code/' + encodeURIComponent(code) }, options));
}

function get(id, options) {
  return request(Object.assign({ url: '/api/v1/places/' + id }, options));
}

// Children of `parentId` (campuses when null), first page of up to 100: a floor's rooms fit.
function children(parentId, options) {
  const data = { page: 1, page_size: 100 };
  if (parentId) data.parent_id = parentId;
  return request(Object.assign({ url: '/api/v1/places', data }, options));
}

module.exports = { getByCode, get, children };
