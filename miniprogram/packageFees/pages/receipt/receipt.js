// 缴费收据: the receipt of each paid bill (receipt number, WeChat's transaction id, amount, time).
// The printable page is GET /api/v1/fees/bills/{id}/receipt (finance prints it from the console).
const feesApi = require('../../../api/fees');
const { formatFen } = require('../../../utils/money');
const { formatDateTime } = require('../../../utils/time');

function receipt(raw) {
  return {
    id: raw.id,
    title: raw.item.term + ' ' + raw.item.name,
    student: raw.student.name + '（' + raw.student.number + '）',
    className: raw.student.class_name,
    amount: formatFen(raw.amount_fen),
    paidAt: raw.paid_at ? formatDateTime(raw.paid_at) : '',
    receiptNo: raw.receipt_no || '',
    transactionId: raw.transaction_id || '',
    refunded: raw.status === 'refunded',
  };
}

Component({
  data: { receipts: [], loading: false, error: '' },

  methods: {
    onLoad(query) {
      const ids = String((query && (query.ids || query.id)) || '')
        .split(',')
        .filter(Boolean)
        .map(Number);
      this.setData({ loading: true });
      return Promise.all(ids.map(id => feesApi.bill(id, { silent: true }))).then(
        bills => this.setData({ receipts: bills.filter(b => b.receipt_no).map(receipt), loading: false }),
        err => this.setData({ loading: false, error: err.message })
      );
    },
  },
});
