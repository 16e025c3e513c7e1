// /api/v1/repairs — report with photos, my reports, worker tasks, the dispatcher's queue, actions.
const { request, upload } = require('./request');

function categories(options) {
  return request(Object.assign({ url: '/api/v1/repairs/categories' }, options));
}

function ratingTags(options) {
  return request(Object.assign({ url: '/api/v1/repairs/rating-tags' }, options));
}

// A photo picked with wx.chooseMedia -> {id, url, thumb_url}; onProgress(percent) while it uploads.
function uploadPhoto(filePath, onProgress, options) {
  return upload(Object.assign({ url: '/api/v1/repairs/photos', filePath, onProgress }, options));
}

// A photo added to an existing repair (the reporter's, or the worker's after-photos).
function addPhoto(id, filePath, onProgress, options) {
  return upload(Object.assign({ url: '/api/v1/repairs/' + id + '/photos', filePath, onProgress }, options));
}

// payload: {category_id, place_id, description, contact_phone, urgency, preferred_time, photo_ids, insist}
// -> {linked, repair}
function submit(payload, options) {
  return request(Object.assign({ url: '/api/v1/repairs', method: 'POST', data: payload }, options));
}

// Is the same problem (place and category) already reported and open? -> {open, status_label, ...}
function openCheck(placeId, categoryId, options) {
  return request(Object.assign({ url: '/api/v1/repairs/open-check', data: { place_id: placeId, category_id: categoryId } }, options));
}

function mine(query, options) {
  return request(Object.assign({ url: '/api/v1/repairs/mine', data: query }, options));
}

// query: {tab: 'new' | 'active' | 'done', page, page_size}
function tasks(query, options) {
  return request(Object.assign({ url: '/api/v1/repairs/tasks', data: query }, options));
}

// query: {status, overdue, unassigned, page, page_size}
function queue(query, options) {
  return request(Object.assign({ url: '/api/v1/repairs/queue', data: query }, options));
}

function get(id, options) {
  return request(Object.assign({ url: '/api/v1/repairs/' + id }, options));
}

// action: assign | transfer | accept | decline | start | hold | resume | complete | confirm | cancel | reopen
function act(id, action, payload, options) {
  return request(Object.assign({ url: '/api/v1/repairs/' + id + '/' + action, method: 'POST', data: payload || {} }, options));
}

function reprioritise(id, payload, options) {
  return request(Object.assign({ url: '/api/v1/repairs/' + id + '/reprioritise', method: 'POST', data: payload }, options));
}

function materials(options) {
  return request(Object.assign({ url: '/api/v1/repairs/materials' }, options));
}

function workers(options) {
  return request(Object.assign({ url: '/api/v1/repairs/workers' }, options));
}

module.exports = { categories, ratingTags, uploadPhoto, addPhoto, submit, openCheck, mine, tasks, queue, get, act, reprioritise, materials, workers };
