// End to end: the demo student (陈同学, billed 学费、住宿费、教材费 by the seed) pays two bills with the real
// api/fees.js and services/payment.js. wx.requestPayment pays at the WeChat simulator (fetch-wx.js), which
// posts WeChat Pay's signed notification to the backend; its worker applies it, and the result page's
// poll (GET /payments/{id}?sync=1) sees the payment paid and the bills with their receipts.
const live = require('./live');

describe('fees against the live backend', () => {
  let feesApi;
  let paymentsApi;
  let payment;

  beforeAll(() => {
    live.connect('demo-student');
    feesApi = require('../../api/fees');
    paymentsApi = require('../../api/payments');
    payment = require('../../services/payment');
  });

  async function paidWithin(paymentId, ms) {
    const deadline = Date.now() + ms;
    for (;;) {
      const answer = await paymentsApi.get(paymentId, true);
      if (answer.payment.status === 'paid' || Date.now() > deadline) return answer.payment;
      await new Promise(resolve => setTimeout(resolve, 500));
    }
  }

  test('two bills become one WeChat payment; paying it marks both paid with receipts', async () => {
    await live.logInAs('student');
    const unpaid = (await feesApi.bills()).filter(b => b.status === 'unpaid');
    expect(unpaid.length).toBeGreaterThanOrEqual(2);
    const picked = unpaid.slice(0, 2);

    const checkout = await feesApi.checkout(picked.map(b => b.id));
    expect(checkout.amount_fen).toBe(picked[0].amount_fen + picked[1].amount_fen);
    expect(checkout.params.package).toMatch(/^prepay_id=/);
    expect(checkout.params.signType).toBe('RSA');
    const again = await feesApi.checkout(picked.map(b => b.id)); // a double tap: the same payment
    expect(again.payment_id).toBe(checkout.payment_id);

    expect(await payment.pay(checkout.params)).toBe(true);
    const paid = await paidWithin(checkout.payment_id, 30000);
    expect(paid.status).toBe('paid');

    const after = await feesApi.bills();
    for (const bill of picked) {
      const now = after.filter(b => b.id === bill.id)[0];
      expect(now.status).toBe('paid');
      expect(now.receipt_no).toBeTruthy();
    }
    const history = await paymentsApi.mine({ page: 1 });
    expect(history.items.map(i => i.payment.id)).toContain(checkout.payment_id);
  });
});
