// /api/v1/payments — my payments (with their refunds) and one payment as WeChat says it is now.
const { request, list } = require('./request');

// My payments, newest first: params {page, page_size} -> {items: [{payment, refunds}], pagination}
function mine(params, options) {
  return list('/api/v1/payments', params, options);
}

// One payment; `sync` asks WeChat now (the result page's poll) -> {payment, refunds}
function get(id, sync, options) {
  return request(Object.assign({ url: '/api/v1/payments/' + id, data: sync ? { sync: 1 } : {} }, options));
}

// Prepay again (an order left unpaid: 去支付) -> {payment_id, status, params}; params null once not payable
function checkout(id, options) {
  return request(Object.assign({ url: '/api/v1/payments/' + id + '/checkout', method: 'POST' }, options));
}

module.exports = { mine, get, checkout };
