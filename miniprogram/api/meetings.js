// /api/v1/meetings — meetings, weekly series, QR check-in, door codes, leave requests, attendance.
// The paginated lists (list, leaves, attendees) resolve with {items, pagination} (request.list).
const { request, list: paged, download } = require('./request');
const errors = require('./errors');

const BASE = '/api/v1/meetings';

function call(url, method, data, options) {
  return request(Object.assign({ url, method: method || 'GET', data }, options));
}

// params: {scope: 'invited'|'organised'|'all', when: 'upcoming'|'past', page, page_size}
function list(params, options) {
  return paged(BASE, params, options);
}

function get(id, options) {
  return call(BASE + '/' + id, 'GET', undefined, options);
}

function create(payload, options) {
  return call(BASE, 'POST', payload, options);
}

function update(id, payload, options) {
  return call(BASE + '/' + id, 'PUT', payload, options);
}

function cancel(id, reason, options) {
  return call(BASE + '/' + id + '/cancel', 'POST', { reason: reason || '' }, options);
}

function createSeries(payload, options) {
  return call(BASE + '/series', 'POST', payload, options);
}

// -> {id, title, status: 'active'|'cancelled', interval_weeks, until, first_starts_at, duration_minutes,
//     description (the rule in words: "每周一 16:00，11月23日起"), template, occurrences: [{id, starts_at,
//     ends_at, status, detached, phase}]}
function getSeries(id, options) {
  return call(BASE + '/series/' + id, 'GET', undefined, options);
}

// payload: the meeting form's body (the weekday stays; future occurrences not edited on their own follow)
function updateSeries(id, payload, options) {
  return call(BASE + '/series/' + id, 'PUT', payload, options);
}

// Stops the series: its occurrences that have not started are cancelled.
function cancelSeries(id, reason, options) {
  return call(BASE + '/series/' + id + '/cancel', 'POST', { reason: reason || '' }, options);
}

// purpose: 'check_in' | 'sign_out'
function qr(id, purpose, options) {
  return call(BASE + '/' + id + '/qr', 'GET', { purpose: purpose || 'check_in' }, options);
}

function projectorLink(id, purpose, options) {
  return call(BASE + '/' + id + '/projector-link?purpose=' + (purpose || 'check_in'), 'POST', {}, options);
}

// Every projector link handed out for the meeting stops working at once.
function revokeProjectorLinks(id, options) {
  return call(BASE + '/' + id + '/projector-link', 'DELETE', undefined, options);
}

// payload: {token | code, nonce, location?: {latitude, longitude, accuracy}, device?}
// Always 200 for a business outcome: {status: 'ok'|'error', reason, message, late, meeting …}
function checkIn(payload, options) {
  return call(BASE + '/check-ins', 'POST', payload, options);
}

function live(id, options) {
  return call(BASE + '/' + id + '/live', 'GET', undefined, options);
}

function attendance(id, options) {
  return call(BASE + '/' + id + '/attendance', 'GET', undefined, options);
}

// params: {status: 'all'|'checked_in'|'on_time'|'late'|'excused'|'absent', department_id, page, page_size}
function attendees(id, params, options) {
  return paged(BASE + '/' + id + '/attendees', params, options);
}

function manualCheckIn(id, userId, reason, options) {
  return call(BASE + '/' + id + '/attendees/' + userId + '/check-in', 'POST', { reason }, options);
}

function undoCheckIn(id, userId, reason, options) {
  return call(BASE + '/' + id + '/attendees/' + userId + '/undo-check-in', 'POST', { reason }, options);
}

function askLeave(id, reason, options) {
  return call(BASE + '/' + id + '/leave-requests', 'POST', { reason }, options);
}

// params: {meeting_id?, status?}
function leaves(params, options) {
  return paged(BASE + '/leave-requests', params, options);
}

function approveLeave(leaveId, note, options) {
  return call(BASE + '/leave-requests/' + leaveId + '/approve', 'POST', { note: note || '' }, options);
}

function rejectLeave(leaveId, note, options) {
  return call(BASE + '/leave-requests/' + leaveId + '/reject', 'POST', { note: note || '' }, options);
}

function withdrawLeave(leaveId, options) {
  return call(BASE + '/leave-requests/' + leaveId + '/withdraw', 'POST', {}, options);
}

// params: {user_id?, start?, end?}
function history(params, options) {
  return call(BASE + '/history', 'GET', params, options);
}

// The .xlsx export (wx.downloadFile with the access token): resolves the temp path.
function downloadExport(id) {
  return download(BASE + '/' + id + '/attendance.xlsx');
}

// The printable door code (a PNG: the mini-program code, or a plain QR code when WeChat cannot make
// one): resolves the temp path. Only for meetings with a geofence and the door code switched on;
// otherwise 409 meetings.static_code_disabled.
function downloadStaticCode(id, source) {
  return download(BASE + '/' + id + '/static-code', { source: source || 'wechat' }).catch(err => {
    // the body (with the server's message) could not be read: the 409 still means this
    if (err.statusCode === 409 && err.error_code === 'http_409') {
      throw new errors.ApiError({ statusCode: 409, error_code: 'meetings.static_code_disabled' });
    }
    throw err;
  });
}

module.exports = {
  list,
  get,
  create,
  update,
  cancel,
  createSeries,
  getSeries,
  updateSeries,
  cancelSeries,
  qr,
  projectorLink,
  revokeProjectorLinks,
  checkIn,
  live,
  attendance,
  attendees,
  manualCheckIn,
  undoCheckIn,
  askLeave,
  leaves,
  approveLeave,
  rejectLeave,
  withdrawLeave,
  history,
  downloadExport,
  downloadStaticCode,
};
