// 缴费: the bills of the student I pay for — a student their own, a parent each child's (a switcher
// when there are several) — unpaid first. Unpaid bills are picked (all by default) and paid together
// on the cashier page; a paid bill opens its receipt.
const session = require('../../../services/session');
const feesApi = require('../../../api/fees');
const routes = require('../../../utils/routes');
const { formatFen } = require('../../../utils/money');
const view = require('../../lib/view');

function childrenOf(user) {
  if (!user || (user.person && user.person.kind === 'student')) return [];
  return (user.children || []).map(c => ({ id: c.id, name: c.name, className: c.class_name }));
}

Component({
  data: {
    children: [],
    childId: null,
    bills: [],
    picked: {},
    pickedCount: 0,
    total: '¥0.00',
    loading: false,
    loaded: false,
    error: '',
  },

  methods: {
    onLoad() {
      this.loadedOnce = true;
      return this.start();
    },

    // back from the cashier or the result page: the bills may have moved
    onShow() {
      return this.loadedOnce && this.data.loaded ? this.load() : undefined;
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    start() {
      this.setData({ loading: true, error: '' });
      return session.fetchUser({ silent: true }).then(
        user => {
          const children = childrenOf(user);
          this.setData({ children, childId: children.length ? children[0].id : null });
          return this.load();
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    load() {
      this.setData({ loading: true, error: '' });
      return feesApi.bills(this.data.childId, { silent: true }).then(
        raw => {
          const bills = raw.map(view.bill);
          const picked = {};
          bills.filter(b => b.payable).forEach(b => {
            picked[b.id] = true;
          });
          this.setData({ bills, loading: false, loaded: true });
          this.showPicked(picked);
        },
        err => this.setData({ loading: false, loaded: true, error: err.message, bills: [] })
      );
    },

    showPicked(picked) {
      const rows = this.data.bills.filter(b => picked[b.id]);
      this.setData({ picked, pickedCount: rows.length, total: formatFen(view.sum(rows)) });
    },

    onChild(e) {
      const id = Number(e.currentTarget.dataset.id);
      if (id === this.data.childId) return undefined;
      this.setData({ childId: id });
      return this.load();
    },

    onBill(e) {
      const id = Number(e.currentTarget.dataset.id);
      const bill = this.data.bills.filter(b => b.id === id)[0];
      if (!bill) return;
      if (bill.hasReceipt) {
        wx.navigateTo({ url: routes.fees.receipt(id) });
        return;
      }
      if (!bill.payable) return;
      const picked = Object.assign({}, this.data.picked);
      if (picked[id]) delete picked[id];
      else picked[id] = true;
      this.showPicked(picked);
    },

    onPay() {
      const ids = this.data.bills.filter(b => this.data.picked[b.id]).map(b => b.id);
      if (!ids.length) {
        wx.showToast({ title: '请选择要缴的账单', icon: 'none' });
        return;
      }
      wx.navigateTo({ url: routes.fees.cashier(ids, this.data.childId) });
    },

    onHistory() {
      wx.navigateTo({ url: routes.fees.history() });
    },
  },
});
