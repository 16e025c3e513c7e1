// The payment poll of every page that waits for a payment (缴费 支付结果, 订餐 订单): what the server
// says — never wx.requestPayment's word. Asks GET /payments/{id}?sync=1 every 2 s (the server asks
// WeChat); stops when the payment is paid or closed, or after 60 s (`payState` 'timeout': the page
// offers 刷新, which calls start() again for another 60 s). A network blip is asked again.
//
//   Component({
//     behaviors: [require('…/behaviors/payment')],
//     methods: {
//       onLoad(q) { this.paymentId = Number(q.payment); return this.start(); },
//       paymentSeen(payment) { … },             // optional: every answer (amount, description)
//       paymentSettled(state, payment) { … },   // optional: 'paid' | 'closed', once
//     },
//   });
//
// Data: payState '' | 'waiting' | 'paid' | 'closed' | 'timeout'. Methods: start(), stop(), poll(),
// and onUnload (stops the timer).
const paymentsApi = require('../api/payments');

const POLL_MS = 2000;
const GIVE_UP_MS = 60000;

module.exports = Behavior({
  data: { payState: '' },

  methods: {
    start() {
      this.stop();
      this.startedAt = Date.now();
      this.setData({ payState: 'waiting' });
      return this.poll();
    },

    stop() {
      clearTimeout(this.timer);
      this.timer = null;
    },

    poll() {
      this.timer = null;
      return paymentsApi.get(this.paymentId, true, { silent: true }).then(
        body => this.paymentAnswer(body.payment),
        () => this.pollNext() // a network blip: ask again
      );
    },

    paymentAnswer(payment) {
      if (this.paymentSeen) this.paymentSeen(payment);
      if (payment.status === 'created') return this.pollNext();
      const state = payment.status === 'closed' ? 'closed' : 'paid';
      this.setData({ payState: state });
      return this.paymentSettled ? this.paymentSettled(state, payment) : undefined;
    },

    pollNext() {
      if (Date.now() - this.startedAt >= GIVE_UP_MS) {
        this.setData({ payState: 'timeout' });
        return;
      }
      this.timer = setTimeout(() => this.poll(), POLL_MS);
    },

    onUnload() {
      this.stop();
    },
  },
});
