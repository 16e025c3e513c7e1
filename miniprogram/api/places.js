// /api/v1/places — campuses, buildings, floors and rooms (each room has a QR code).
const { request } = require('./request');

function getByCode(code, options) {
  return request(Object.assign({ url: '/api/v1/places/by-code/' + encodeURIComponent(code) }, options));
}

// Children of a place (campuses when parentId is null), for the place picker.
function children(parentId, options) {
  const data = { page_size: 100 };
  if (parentId) data.parent_id = parentId;
  return request(Object.assign({ url: '/api/v1/places', data }, options));
}

module.exports = { getByCode, children };
