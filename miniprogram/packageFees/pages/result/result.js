// 支付结果: what the server says of the payment (the shared poll, behaviors/payment.js: every 2 s, up
// to 60 s, then 刷新). 缴费成功 links the receipts.
const paymentBehavior = require('../../../behaviors/payment');
const routes = require('../../../utils/routes');
const { formatFen } = require('../../../utils/money');

Component({
  behaviors: [paymentBehavior],

  data: {
    amount: '',
    description: '',
  },

  methods: {
    onLoad(query) {
      this.paymentId = Number(query && query.payment);
      this.billIds = String((query && query.bills) || '')
        .split(',')
        .filter(Boolean)
        .map(Number);
      return this.start();
    },

    paymentSeen(payment) {
      this.setData({ amount: formatFen(payment.amount_fen), description: payment.description });
    },

    onRefresh() {
      return this.start();
    },

    onReceipt() {
      wx.navigateTo({ url: routes.fees.receipt(this.billIds) });
    },

    onBack() {
      wx.navigateBack({ delta: 1 });
    },
  },
});
