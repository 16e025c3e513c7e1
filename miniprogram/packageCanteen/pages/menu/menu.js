// 订餐: today and the next 6 days (school time), 早/午/晚 → the menu: each dish (its thumbnail when it
// has a photo) at my price (the server's price_group) with the portions left (已售罄 greyed) and the
// cut-off (after it: 已截止, nothing can be ordered); +/− within
// the caps (per person, portions left, per order); 提交订单 → POST /canteen/orders with one request_id
// per cart (a double tap or a retry is one order): the portions are held for 10 minutes → the payment's
// checkout (POST /payments/{id}/checkout) → WeChat Pay (services/payment) → the order page, which asks
// the server; a cancelled payment, or a checkout WeChat could not answer, opens the order as 待支付 with
// 去支付 (the portions stay held). Shown again (back from an order: the portions left have changed) or
// pulled down, it loads again (behaviors/reload).
const canteenApi = require('../../../api/canteen');
const paymentsApi = require('../../../api/payments');
const reload = require('../../../behaviors/reload');
const payment = require('../../../services/payment');
const routes = require('../../../utils/routes');
const { formatFen } = require('../../../utils/money');
const view = require('../../lib/view');
const dayMeal = require('../../lib/day-meal');

function newRequestId() {
  let out = 'mp';
  for (let i = 0; i < 30; i += 1) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

Component({
  behaviors: [reload, dayMeal],
  data: {
    days: [],
    menus: [],
    current: 0,
    menu: null,
    count: 0,
    total: '¥0.00',
    loading: false,
    error: '',
    submitting: false,
  },

  methods: {
    onLoad(query) {
      const picker = view.dayMealPicker();
      this.setData(Object.assign(picker, { date: (query && query.date) || picker.date, meal: (query && query.meal) || picker.meal }));
      return this.load();
    },

    load() {
      this.setData({ loading: true, error: '' });
      return canteenApi.menus(this.data.date, this.data.meal, { silent: true }).then(
        raw => {
          const now = Date.now();
          const menus = raw.map(m => view.menu(m, now));
          this.cartRequestId = null;
          this.setData({ menus, current: 0, loading: false });
          this.showMenu(0);
        },
        err => this.setData({ loading: false, error: err.message, menus: [], menu: null })
      );
    },

    showMenu(index) {
      const menu = this.data.menus[index] || null;
      this.setData({ current: index, menu });
      this.sum();
    },

    dayChanged() {
      return this.load();
    },

    onCanteen(e) {
      this.cartRequestId = null;
      this.showMenu(Number(e.currentTarget.dataset.index));
    },

    change(id, delta) {
      const menu = this.data.menu;
      if (!menu || !menu.open) return;
      const index = menu.items.findIndex(i => i.id === id);
      const it = menu.items[index];
      if (!it || !it.orderable) return;
      const qty = it.qty + delta;
      if (qty < 0) return;
      if (delta > 0 && qty > it.cap) {
        wx.showToast({ title: it.remaining < qty ? '仅剩 ' + it.remaining + ' 份' : it.capLabel, icon: 'none' });
        return;
      }
      if (delta > 0 && this.data.count + delta > menu.maxPerOrder) {
        wx.showToast({ title: '每单最多 ' + menu.maxPerOrder + ' 份', icon: 'none' });
        return;
      }
      this.cartRequestId = null; // another cart: another order
      this.setData({ ['menu.items[' + index + '].qty']: qty });
      this.sum();
    },

    onPlus(e) {
      this.change(Number(e.currentTarget.dataset.id), 1);
    },

    onMinus(e) {
      this.change(Number(e.currentTarget.dataset.id), -1);
    },

    sum() {
      const items = (this.data.menu && this.data.menu.items) || [];
      const count = items.reduce((n, i) => n + i.qty, 0);
      const fen = items.reduce((n, i) => n + i.qty * i.priceFen, 0);
      this.setData({ count, total: formatFen(fen) });
    },

    onSubmit() {
      const menu = this.data.menu;
      if (this.data.submitting || !menu || !menu.open || !this.data.count) return undefined;
      if (!this.cartRequestId) this.cartRequestId = newRequestId();
      const lines = menu.items.filter(i => i.qty > 0).map(i => ({ menu_item_id: i.id, quantity: i.qty }));
      this.setData({ submitting: true });
      let orderId = null;
      return canteenApi
        .placeOrder({ menu_id: menu.id, lines, request_id: this.cartRequestId })
        .then(answer => {
          orderId = answer.order.id;
          if (!answer.payment) return true; // paid already (a retry of an order paid meanwhile)
          return paymentsApi.checkout(answer.payment.payment_id).then(
            paying => (paying.params ? payment.pay(paying.params) : true),
            () => false // request() has toasted why (微信支付暂时不可用…): the order waits, 去支付 on its page
          );
        })
        .then(
          ask => {
            this.cartRequestId = null;
            this.setData({ submitting: false });
            wx.navigateTo({ url: routes.canteen.order(orderId, ask) });
          },
          err => {
            this.setData({ submitting: false }); // request() has toasted why
            if (orderId) return wx.navigateTo({ url: routes.canteen.order(orderId, true) });
            // the server said no (sold out, closed, over a cap): the menu as it is now, a new cart.
            // No answer (network): the cart and its request_id stay, so 提交订单 again is the same order.
            return err && err.statusCode >= 400 ? this.load() : undefined;
          }
        );
    },

    onOrders() {
      wx.navigateTo({ url: routes.canteen.orders() });
    },
  },
});
