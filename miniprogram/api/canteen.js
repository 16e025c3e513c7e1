// /api/v1/canteen — menus with portions left, ordering, my orders, cancel, the order's QR; for canteen
// staff: pickups by code or QR token, the production sheet and the pickup progress.
const { request, list, download } = require('./request');

// The menus of a day ('YYYY-MM-DD', school time) and meal -> [menu]
function menus(date, meal, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menus', data: { date, meal } }, options));
}

// {menu_id, lines: [{menu_item_id, quantity}], request_id} -> {order, payment: {payment_id, status, params}}.
// The same request_id again answers the same order (a double tap is one order).
function placeOrder(body, options) {
  return request(Object.assign({ url: '/api/v1/canteen/orders', method: 'POST', data: body }, options));
}

function mine(params, options) {
  return list('/api/v1/canteen/orders/mine', params, options);
}

function order(id, options) {
  return request(Object.assign({ url: '/api/v1/canteen/orders/' + id }, options));
}

function cancel(id, options) {
  return request(Object.assign({ url: '/api/v1/canteen/orders/' + id + '/cancel', method: 'POST' }, options));
}

// The paid order's QR code (a PNG the window scans) -> temp file path
function qr(id) {
  return download('/api/v1/canteen/orders/' + id + '/qr');
}

// Staff: {code} (6 digits) or {token} (the order's QR) -> the order, picked up
function pickup(body, options) {
  return request(Object.assign({ url: '/api/v1/canteen/pickups', method: 'POST', data: body }, options));
}

function production(menuId, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menus/' + menuId + '/production' }, options));
}

function progress(menuId, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menus/' + menuId + '/progress' }, options));
}

module.exports = { menus, placeOrder, mine, order, cancel, qr, pickup, production, progress };
