// 订单详情: the status in Chinese; paid: the pickup code in large digits and its QR (scanned at the
// window), where and when to pick up. 待支付: 去支付 (the same payment, prepaid again) until it expires.
// Opened right after paying (`paying=1`): asks the server until the payment is settled (the shared poll,
// behaviors/payment), then shows the order as it is. 取消订单 before the deadline, after a confirm that
// says what is refunded; after it the server's message.
const canteenApi = require('../../../api/canteen');
const paymentsApi = require('../../../api/payments');
const paymentBehavior = require('../../../behaviors/payment');
const payment = require('../../../services/payment');
const view = require('../../lib/view');

function confirm(title, content) {
  return new Promise(resolve => {
    wx.showModal({ title, content, confirmText: '确定取消', cancelText: '再想想', success: res => resolve(Boolean(res.confirm)) });
  });
}

Component({
  behaviors: [paymentBehavior],

  data: {
    order: null,
    qr: '',
    loading: false,
    error: '',
    busy: false,
  },

  methods: {
    onLoad(query) {
      this.orderId = Number(query && query.id);
      this.paying = Boolean(query && query.paying);
      return this.load();
    },

    load() {
      this.setData({ loading: true, error: '' });
      return canteenApi.order(this.orderId, { silent: true }).then(
        raw => {
          const order = view.order(raw);
          this.setData({ order, loading: false });
          if (order.paid) this.loadQr();
          if (this.paying && order.status === 'pending_payment' && order.paymentId) {
            this.paying = false;
            this.paymentId = order.paymentId;
            return this.start();
          }
          return undefined;
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    loadQr() {
      return canteenApi.qr(this.orderId).then(
        path => this.setData({ qr: path }),
        () => this.setData({ qr: '' }) // the code's digits are enough at the window
      );
    },

    // behaviors/payment: the payment is settled (paid or closed): the order as it is now
    paymentSettled() {
      return this.load();
    },

    onRefresh() {
      return this.start();
    },

    onPay() {
      const order = this.data.order;
      if (this.data.busy || !order || !order.payable) return undefined;
      this.setData({ busy: true });
      return paymentsApi
        .checkout(order.paymentId)
        .then(answer => (answer.params ? payment.pay(answer.params) : true))
        .then(
          ask => {
            this.setData({ busy: false });
            if (!ask) return undefined;
            this.paymentId = order.paymentId;
            return this.start();
          },
          () => {
            this.setData({ busy: false });
            return this.load();
          }
        );
    },

    onCancel() {
      const order = this.data.order;
      if (this.data.busy || !order) return undefined;
      const content = order.paid ? '已支付的 ' + order.total + ' 将原路退回' : '订单将取消，预留的菜品会释放';
      return confirm('取消订单？', content).then(ok => {
        if (!ok) return undefined;
        this.setData({ busy: true });
        return canteenApi.cancel(this.orderId).then(
          raw => {
            this.stop();
            this.setData({ busy: false, order: view.order(raw), qr: '', payState: '' });
            wx.showToast({ title: order.paid ? '已取消，' + order.total + ' 将原路退回' : '已取消', icon: 'none' });
          },
          () => this.setData({ busy: false }) // request() toasted the server's reason (已过取消截止时间…)
        );
      });
    },

    onPreviewQr() {
      if (this.data.qr) wx.previewImage({ urls: [this.data.qr] });
    },
  },
});
