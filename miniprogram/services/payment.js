// Paying through WeChat Pay, the one way every payable page does it (缴费 收银台, 订餐):
//
//   payment.pay(params)   -> Promise<boolean>
//
// `params` are the server's answer for wx.requestPayment (a checkout). Resolves true when the result
// page must ask the server (paid — or failed / unknown: WeChat's word is never taken for payment),
// false when the payer cancelled (a 已取消支付 toast; the order or bills stay payable).
// What the server says of the payment afterwards is `behaviors/payment.js` (the poll).

function requestPayment(params) {
  return new Promise((resolve, reject) => {
    wx.requestPayment(Object.assign({}, params, { success: resolve, fail: reject }));
  });
}

function cancelled(res) {
  return /cancel/.test((res && res.errMsg) || '');
}

function pay(params) {
  return requestPayment(params).then(
    () => true,
    res => {
      if (!cancelled(res)) return true; // failed or unknown: ask the server
      wx.showToast({ title: '已取消支付', icon: 'none' });
      return false;
    }
  );
}

module.exports = { pay };
