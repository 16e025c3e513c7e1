// /api/v1/canteen — menus with portions left, ordering, my orders, cancel, the order's QR; for canteen
// staff: pickups by code or QR token, the production sheet and the pickup progress, and 菜单管理:
// dishes (with their photos), a day's menus, portions, copying a week.
const { request, list, download } = require('./request');
const { upload } = require('./upload');

// The menus of a day ('YYYY-MM-DD', school time) and meal -> [menu]
function menus(date, meal, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menus', data: { date, meal } }, options));
}

// {menu_id, lines: [{menu_item_id, quantity}], request_id} -> {order, payment: {payment_id, status}}: the
// portions are held for 10 minutes; paying is api/payments checkout(payment_id), then wx.requestPayment.
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

// -> [{id, name, location}]
function canteens(options) {
  return request(Object.assign({ url: '/api/v1/canteen/canteens' }, options));
}

// -> [{id, canteen_id, name, sort_order}]
function windows(canteenId, options) {
  return request(Object.assign({ url: '/api/v1/canteen/canteens/' + canteenId + '/windows' }, options));
}

// -> [{id, window_id, name, price_fen, tags, allergens, photo_url, thumb_url}]
function dishes(canteenId, options) {
  return request(Object.assign({ url: '/api/v1/canteen/canteens/' + canteenId + '/dishes' }, options));
}

// {window_id, name, price_fen, tags, allergens} -> the dish
function createDish(canteenId, body, options) {
  return request(Object.assign({ url: '/api/v1/canteen/canteens/' + canteenId + '/dishes', method: 'POST', data: body }, options));
}

// Only the fields given change (a PUT: wx.request has no PATCH): {name?, price_fen?, tags?, allergens?, window_id?} -> the dish
function updateDish(id, body, options) {
  return request(Object.assign({ url: '/api/v1/canteen/dishes/' + id, method: 'PUT', data: body }, options));
}

// The dish's photo (a temp file from wx.chooseMedia), replacing the one it had -> the dish.
// Rejects with an ApiError without a toast (the page shows it by the photo).
function uploadDishPhoto(id, filePath, opts) {
  return upload('/api/v1/canteen/dishes/' + id + '/photo', filePath, opts);
}

function removeDishPhoto(id, options) {
  return request(Object.assign({ url: '/api/v1/canteen/dishes/' + id + '/photo', method: 'DELETE' }, options));
}

// Publish a menu: {canteen_id, day, meal, items: [{dish_id, portions, max_per_person}]} -> the menu
function createMenu(body, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menus', method: 'POST', data: body }, options));
}

// A dish's portions on a published menu (never below what is ordered: 409) -> the menu item
function setPortions(menuItemId, portions, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menu-items/' + menuItemId + '/portions', method: 'PUT', data: { portions } }, options));
}

// The week starting weekStart ('YYYY-MM-DD') copied to the next; existing menus skipped -> [menu] made
function copyWeek(canteenId, weekStart, options) {
  return request(Object.assign({ url: '/api/v1/canteen/menus/copy-week', method: 'POST', data: { canteen_id: canteenId, week_start: weekStart } }, options));
}

module.exports = {
  menus,
  placeOrder,
  mine,
  order,
  cancel,
  qr,
  pickup,
  production,
  progress,
  canteens,
  windows,
  dishes,
  createDish,
  updateDish,
  uploadDishPhoto,
  removeDishPhoto,
  createMenu,
  setPortions,
  copyWeek,
};
