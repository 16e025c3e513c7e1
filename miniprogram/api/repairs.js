// /api/v1/repairs — report a problem (photos first, then the report), my reports, a worker's tasks,
// the dispatcher's queue, one POST per workflow action. The paginated lists resolve with
// {items, pagination} like api/notifications.js.
//
// Photos go up with wx.uploadFile through api/upload.js (bearer token, one session renewal on a 401,
// progress).
const { request, list: paged } = require('./request');
const { absoluteUrl, upload } = require('./upload');

// -> [{id, code, name, icon, color, sort_order, active}]
function categories(options) {
  return request(Object.assign({ url: '/api/v1/repairs/categories' }, options));
}

// -> {tags: [...]}
function ratingTags(options) {
  return request(Object.assign({ url: '/api/v1/repairs/rating-tags' }, options));
}

// -> [{id, name, unit, unit_cost_fen, active}] (workers, dispatchers, admins)
function materials(options) {
  return request(Object.assign({ url: '/api/v1/repairs/materials' }, options));
}

// -> [{user_id, name, open_count, groups}] least busy first (dispatchers, admins)
function workers(options) {
  return request(Object.assign({ url: '/api/v1/repairs/workers' }, options));
}

// report: {category_id, place_id, description, urgency, contact_phone, preferred_time, photo_ids, insist}
// -> {linked, repair}: `linked` when an open repair of the same place and category took the report.
function create(report, options) {
  return request(Object.assign({ url: '/api/v1/repairs', method: 'POST', data: report }, options));
}

// Before reporting: is the same problem (place and category) already reported and still open?
// -> {open: false} or {open: true, repair_id, status, status_label, created_at, mine}
function openCheck(placeId, categoryId, options) {
  return request(Object.assign({ url: '/api/v1/repairs/open-check', data: { place_id: placeId, category_id: categoryId } }, options));
}

// params: {status?, page?, page_size?}
function mine(params, options) {
  return paged('/api/v1/repairs/mine', params, options);
}

// params: {tab: 'new' | 'active' | 'done', page?, page_size?}
function tasks(params, options) {
  return paged('/api/v1/repairs/tasks', params, options);
}

// params: {status?, overdue?, unassigned?, page?, page_size?}; overdue first.
function queue(params, options) {
  return paged('/api/v1/repairs/queue', params, options);
}

// -> the detail: photos (signed URLs), deadlines, timeline, actions
function get(id, options) {
  return request(Object.assign({ url: '/api/v1/repairs/' + id }, options));
}

// action: assign | transfer | accept | decline | start | hold | resume | complete | confirm | cancel |
// reopen | reprioritise; body per action (see app/repairs/schemas.py) -> the detail
function act(id, action, body, options) {
  return request(Object.assign({ url: '/api/v1/repairs/' + id + '/' + action, method: 'POST', data: body || {} }, options));
}

// Uploads one photo: to the unattached pool (then referenced by id), or straight onto a repair.
//   uploadPhoto(filePath, {repairId?, onProgress?(percent), onTask?(task)}) -> Promise<photo>
// Rejects with an ApiError (no toast: the page marks the photo as failed, with 重试 / 删除).
function uploadPhoto(filePath, opts) {
  const o = opts || {};
  const url = o.repairId ? '/api/v1/repairs/' + o.repairId + '/photos' : '/api/v1/repairs/photos';
  return upload(url, filePath, o);
}

module.exports = {
  categories,
  ratingTags,
  materials,
  workers,
  create,
  openCheck,
  mine,
  tasks,
  queue,
  get,
  act,
  absoluteUrl,
  uploadPhoto,
};
