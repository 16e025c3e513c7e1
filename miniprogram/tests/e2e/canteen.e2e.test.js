// End to end: the demo student orders tomorrow's lunch (第一食堂, seeded at the backend's start) with the
// real api/canteen.js: the portion is held and a payment opened, WeChat not yet asked. Checking the
// payment out (api/payments.js) prepays at the WeChat simulator; services/payment.js pays there, the
// simulator posts WeChat Pay's signed notification, the backend's worker applies it, and the order is
// paid with a 6-digit pickup code. The same request_id again answers the same order, and the menu shows
// one portion fewer.
const live = require('./live');

describe('canteen ordering against the live backend', () => {
  let canteenApi;
  let paymentsApi;
  let payment;
  let time;

  beforeAll(() => {
    live.connect('demo-student');
    canteenApi = require('../../api/canteen');
    paymentsApi = require('../../api/payments');
    payment = require('../../services/payment');
    time = require('../../utils/time');
  });

  async function paidWithin(orderId, ms) {
    const deadline = Date.now() + ms;
    for (;;) {
      const order = await canteenApi.order(orderId);
      if (order.status !== 'pending_payment' || Date.now() > deadline) return order;
      await new Promise(resolve => setTimeout(resolve, 500));
    }
  }

  test('order, check out, pay: the order is paid with a pickup code', async () => {
    await live.logInAs('student');
    // tomorrow's lunch as seeded; were midnight to pass between the seed and now, the seed's tomorrow
    // is today, whose lunch stays open until 09:00
    let day = null;
    let menu = null;
    for (const d of [time.schoolDate(1), time.schoolDate(0)]) {
      const open = (await canteenApi.menus(d, 'lunch')).filter(m => m.open);
      if (open.length) {
        day = d;
        menu = open[0];
        break;
      }
    }
    expect(menu).not.toBeNull();
    const dish = menu.items.filter(i => i.remaining > 0)[0];
    const body = { menu_id: menu.id, lines: [{ menu_item_id: dish.id, quantity: 1 }], request_id: 'e2e-' + Date.now() };

    const placed = await canteenApi.placeOrder(body);
    expect(placed.order.status).toBe('pending_payment');
    expect(placed.payment.status).toBe('created');
    const again = await canteenApi.placeOrder(body); // a double tap: the same order
    expect(again.order.id).toBe(placed.order.id);
    const [after] = await canteenApi.menus(day, 'lunch');
    expect(after.items.filter(i => i.id === dish.id)[0].remaining).toBe(dish.remaining - 1);

    const checkout = await paymentsApi.checkout(placed.payment.payment_id);
    expect(checkout.params.package).toMatch(/^prepay_id=/);
    expect(await payment.pay(checkout.params)).toBe(true);

    const paid = await paidWithin(placed.order.id, 30000);
    expect(paid.status).toBe('paid');
    expect(paid.pickup_code).toMatch(/^\d{6}$/);
    const replay = await canteenApi.placeOrder(body); // a retry after paying: the paid order, nothing to pay
    expect(replay.order.status).toBe('paid');
    expect(replay.payment).toBeNull();
  });
});
