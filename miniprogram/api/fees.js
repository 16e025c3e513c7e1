// /api/v1/fees — a student's or a parent's bills, checkout of several bills as one WeChat payment.
const { request } = require('./request');

// The bills of the student I pay for (myself, or my child `studentId`), unpaid first.
function bills(studentId, options) {
  const data = studentId ? { student_id: studentId } : {};
  return request(Object.assign({ url: '/api/v1/fees/bills', data }, options));
}

function bill(id, options) {
  return request(Object.assign({ url: '/api/v1/fees/bills/' + id }, options));
}

// -> {order_id, payment_id, amount_fen, bill_ids, params}: `params` for wx.requestPayment. The same
// bills again answer the same payment (a double tap is harmless).
function checkout(billIds, options) {
  return request(Object.assign({ url: '/api/v1/fees/checkouts', method: 'POST', data: { bill_ids: billIds } }, options));
}

module.exports = { bills, bill, checkout };
