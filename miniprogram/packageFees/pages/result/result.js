// 支付结果: what the server says of the payment — never wx.requestPayment's word. Asks
// GET /payments/{id}?sync=1 every 2 s (the server asks WeChat); stops when the payment is paid or
// closed, or after 60 s with a clear message and 刷新 (which asks for another 60 s).
const paymentsApi = require('../../../api/payments');
const routes = require('../../../utils/routes');
const { formatFen } = require('../../../utils/money');

const POLL_MS = 2000;
const GIVE_UP_MS = 60000;

Component({
  data: {
    state: 'waiting', // waiting | paid | closed | timeout
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

    onUnload() {
      this.stop();
    },

    start() {
      this.stop();
      this.startedAt = Date.now();
      this.setData({ state: 'waiting' });
      return this.poll();
    },

    stop() {
      clearTimeout(this.timer);
      this.timer = null;
    },

    poll() {
      this.timer = null;
      return paymentsApi.get(this.paymentId, true, { silent: true }).then(
        body => this.show(body.payment),
        () => this.next() // a network blip: ask again
      );
    },

    show(payment) {
      this.setData({ amount: formatFen(payment.amount_fen), description: payment.description });
      if (payment.status === 'created') return this.next();
      this.setData({ state: payment.status === 'closed' ? 'closed' : 'paid' });
      return undefined;
    },

    next() {
      if (Date.now() - this.startedAt >= GIVE_UP_MS) {
        this.setData({ state: 'timeout' });
        return;
      }
      this.timer = setTimeout(() => this.poll(), POLL_MS);
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
