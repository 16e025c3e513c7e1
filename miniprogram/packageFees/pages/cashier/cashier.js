// 收银台: the picked bills and their sum, then WeChat Pay. One fee order pays them all; a second tap or
// coming back to pay again answers the same payment. Paid (or not sure) → the result page, which asks
// the server; cancelled → stay here, the bills stay reserved until the payment closes (30 minutes).
const feesApi = require('../../../api/fees');
const routes = require('../../../utils/routes');
const { formatFen } = require('../../../utils/money');
const payment = require('../../../services/payment');
const view = require('../../lib/view');

Component({
  data: {
    bills: [],
    total: '¥0.00',
    studentName: '',
    paying: false,
    loading: false,
    error: '',
  },

  methods: {
    onLoad(query) {
      this.billIds = String((query && query.bills) || '')
        .split(',')
        .filter(Boolean)
        .map(Number);
      this.studentId = query && query.student ? Number(query.student) : null;
      this.setData({ loading: true });
      return feesApi.bills(this.studentId, { silent: true }).then(
        raw => {
          const bills = raw.filter(b => this.billIds.indexOf(b.id) >= 0).map(view.bill);
          this.setData({
            bills,
            total: formatFen(view.sum(bills)),
            studentName: bills.length ? bills[0].studentName : '',
            loading: false,
          });
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    onPay() {
      if (this.data.paying || !this.data.bills.length) return undefined;
      const ids = this.data.bills.map(b => b.id);
      this.setData({ paying: true });
      return feesApi
        .checkout(ids)
        .then(answer => {
          if (!answer.params) return answer;
          return payment.pay(answer.params).then(ask => (ask ? answer : null)); // cancelled: stay
        })
        .then(
          answer => {
            this.setData({ paying: false });
            if (answer) wx.redirectTo({ url: routes.fees.result(answer.payment_id, answer.bill_ids) });
          },
          () => this.setData({ paying: false }) // request() has toasted why
        );
    },
  },
});
