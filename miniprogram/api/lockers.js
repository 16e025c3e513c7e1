// /api/v1/lockers — my parcels (open, share, the pickup QR); couriers: the recipient search, the banks'
// free compartments, deposit, the parcels to take back; station staff: a bank's compartments (restore),
// the counter's parcels and the hand-over.
const { request, list, download } = require('./request');

function parcels(options) {
  return request(Object.assign({ url: '/api/v1/lockers/parcels' }, options));
}

// Opens the compartment's door -> the parcel; 409 lockers.fee_due carries {payment_id, amount_fen} in `errors`
function open(id, options) {
  return request(Object.assign({ url: '/api/v1/lockers/parcels/' + id + '/open', method: 'POST' }, options));
}

// {phone} | {number} | {name}: someone else may collect it (代取)
function share(id, who, options) {
  return request(Object.assign({ url: '/api/v1/lockers/parcels/' + id + '/share', method: 'POST', data: who }, options));
}

// The waiting parcel's pickup QR (a PNG the counter scans) -> temp file path
function qr(id) {
  return download('/api/v1/lockers/parcels/' + id + '/qr');
}

// Couriers: people matching q (a whole phone or 学号/工号, or part of a name), at most 10
function recipients(q, options) {
  return request(Object.assign({ url: '/api/v1/lockers/recipients', data: { q } }, options));
}

function banks(options) {
  return request(Object.assign({ url: '/api/v1/lockers/banks' }, options));
}

// {bank_id, tracking_no, size, recipient_id} -> the parcel: its compartment, or the counter's shelf code
function deposit(body, options) {
  return request(Object.assign({ url: '/api/v1/lockers/parcels', method: 'POST', data: body }, options));
}

function toReturn(params, options) {
  return list('/api/v1/lockers/parcels/to-return', params, options);
}

function takeBack(id, options) {
  return request(Object.assign({ url: '/api/v1/lockers/parcels/' + id + '/return', method: 'POST' }, options));
}

// Station staff
function compartments(bankId, options) {
  return request(Object.assign({ url: '/api/v1/lockers/banks/' + bankId + '/compartments' }, options));
}

function restore(compartmentId, options) {
  return request(Object.assign({ url: '/api/v1/lockers/compartments/' + compartmentId + '/restore', method: 'POST' }, options));
}

function counterParcels(params, options) {
  return list('/api/v1/lockers/counter/parcels', params, options);
}

function handOver(code, options) {
  return request(Object.assign({ url: '/api/v1/lockers/counter/hand-over', method: 'POST', data: { code } }, options));
}

module.exports = { parcels, open, share, qr, recipients, banks, deposit, toReturn, takeBack, compartments, restore, counterParcels, handOver };
