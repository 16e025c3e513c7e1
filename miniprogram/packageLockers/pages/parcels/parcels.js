// 我的快递: my parcels and those shared with me (GET /lockers/parcels), newest first. A waiting one shows its
// pickup code in large digits and its QR (the counter scans it), where it is (the bank and compartment, or
// the counter's shelf), since when and the overdue fee if any. 开柜取件 opens the door; past the free hours
// the server answers 409 lockers.fee_due with the payment: pay it through services/payment, wait for the
// server's word (behaviors/payment), then open again. 代取: share it with someone by phone, 学号/工号 or name.
// Shown again or pulled down, it loads again (behaviors/reload).
const lockersApi = require('../../../api/lockers');
const paymentsApi = require('../../../api/payments');
const paymentBehavior = require('../../../behaviors/payment');
const reload = require('../../../behaviors/reload');
const payment = require('../../../services/payment');
const tokens = require('../../../services/tokens');
const view = require('../../lib/view');

function confirm(title, content, confirmText) {
  return new Promise(resolve => {
    wx.showModal({ title, content, confirmText, cancelText: '取消', success: res => resolve(Boolean(res.confirm)) });
  });
}

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

Component({
  behaviors: [paymentBehavior, reload],

  data: {
    items: [],
    qrs: {},
    loading: false,
    loaded: false,
    error: '',
    busyId: 0,
    sharingId: 0,
    shareText: '',
  },

  methods: {
    onLoad() {
      return this.load();
    },

    load() {
      this.setData({ loading: true, error: '' });
      const me = (tokens.getUser() || {}).id;
      return lockersApi.parcels({ silent: true }).then(
        rows => {
          const items = rows.map(raw => view.parcel(raw, me));
          this.setData({ items, loading: false, loaded: true });
          return this.loadQrs(items);
        },
        err => this.setData({ loading: false, error: view.errorMessage(err) })
      );
    },

    loadQrs(items) {
      const waiting = items.filter(p => p.code);
      return Promise.all(
        waiting.map(p =>
          lockersApi.qr(p.id).then(
            path => this.setData({ ['qrs.' + p.id]: path }),
            () => undefined // the digits are enough at the locker and the counter
          )
        )
      );
    },

    onPreviewQr(e) {
      const path = this.data.qrs[e.currentTarget.dataset.id];
      if (path) wx.previewImage({ urls: [path] });
    },

    onOpen(e) {
      const id = Number(e.currentTarget.dataset.id);
      if (this.data.busyId) return undefined;
      const item = this.data.items.filter(p => p.id === id)[0];
      if (!item || !item.canOpen) return undefined;
      return confirm('开柜取件', '柜门将在 ' + item.where + ' 打开，请在柜前操作', '开柜').then(ok => (ok ? this.open(id) : undefined));
    },

    open(id) {
      this.setData({ busyId: id });
      return lockersApi.open(id, { silent: true }).then(
        () => {
          this.setData({ busyId: 0 });
          toast('柜门已打开，取件后请关好柜门');
          return this.load();
        },
        err => {
          if (err.error_code === 'lockers.fee_due' && err.errors && err.errors.payment_id) return this.payFee(id, err.errors);
          this.setData({ busyId: 0 });
          toast(view.errorMessage(err));
          return this.load();
        }
      );
    },

    // 409 lockers.fee_due: the overdue fee, paid like every payment of the app, then the door again
    payFee(id, due) {
      const amount = view.parcel({ status: 'stored', fee_due_fen: due.amount_fen }).fee;
      return confirm('需支付超期保管费', '包裹已超过免费保管时间，需支付 ' + amount + ' 后开柜', '去支付').then(ok => {
        if (!ok) {
          this.setData({ busyId: 0 });
          return undefined;
        }
        return paymentsApi
          .checkout(due.payment_id)
          .then(answer => (answer.params ? payment.pay(answer.params) : true))
          .then(
            ask => {
              if (!ask) {
                this.setData({ busyId: 0 }); // cancelled: the fee stays due
                return undefined;
              }
              this.paymentId = due.payment_id;
              this.feeParcelId = id;
              return this.start();
            },
            () => this.setData({ busyId: 0 }) // request() toasted why
          );
      });
    },

    // behaviors/payment: the server's word on the fee
    paymentSettled(state) {
      const id = this.feeParcelId;
      this.feeParcelId = 0;
      if (state === 'paid' && id) return this.open(id);
      this.setData({ busyId: 0 });
      toast('支付未完成，请重新开柜');
      return this.load();
    },

    onRefresh() {
      return this.start();
    },

    onShare(e) {
      const id = Number(e.currentTarget.dataset.id);
      this.setData({ sharingId: this.data.sharingId === id ? 0 : id, shareText: '' });
    },

    onShareInput(e) {
      this.setData({ shareText: e.detail.value });
    },

    onShareSubmit() {
      const id = this.data.sharingId;
      const who = view.who(this.data.shareText);
      if (!id) return undefined;
      if (!who) {
        toast('请输入代取人的手机号、学号/工号或姓名');
        return undefined;
      }
      return lockersApi.share(id, who, { silent: true }).then(
        () => {
          this.setData({ sharingId: 0, shareText: '' });
          toast('已请对方代取，对方可凭取件码取件');
          return this.load();
        },
        err => toast(view.errorMessage(err))
      );
    },
  },
});
