// How the fee pages show bills and payments (money is integer fen; only the display shows yuan).
const { formatFen } = require('../../utils/money');
const { formatDateTime } = require('../../utils/time');

const BILL_TONES = { unpaid: 'warn', paying: 'pool', paid: 'done', waived: 'muted', refunded: 'muted' };
const PAYMENT_LABELS = {
  created: '待支付',
  paid: '已支付',
  closed: '已关闭',
  refunding: '退款中',
  partially_refunded: '部分退款',
  refunded: '已退款',
};
const REFUND_LABELS = { pending: '退款中', processing: '退款中', succeeded: '已退款', abnormal: '退款异常', closed: '退款关闭', failed: '退款失败' };

function bill(raw) {
  return {
    id: raw.id,
    status: raw.status,
    statusLabel: raw.status_label,
    tone: BILL_TONES[raw.status] || 'muted',
    title: raw.item.term + ' ' + raw.item.name,
    category: raw.item.category,
    due: raw.item.due_date ? '截止 ' + raw.item.due_date : '',
    amountFen: raw.amount_fen,
    amount: formatFen(raw.amount_fen),
    payable: raw.status === 'unpaid',
    hasReceipt: Boolean(raw.receipt_no),
    receiptNo: raw.receipt_no || '',
    refundRequested: Boolean(raw.refund_requested),
    studentName: raw.student.name,
  };
}

function sum(rows) {
  return rows.reduce((total, row) => total + row.amountFen, 0);
}

function payment(raw) {
  const p = raw.payment;
  return {
    id: p.id,
    description: p.description,
    amount: formatFen(p.amount_fen),
    status: p.status,
    statusLabel: PAYMENT_LABELS[p.status] || p.status_label || p.status,
    time: formatDateTime(p.paid_at || p.created_at),
    refunds: (raw.refunds || []).map(r => ({
      id: r.id,
      amount: formatFen(r.amount_fen),
      label: REFUND_LABELS[r.status] || r.status,
      reason: r.reason,
    })),
  };
}

module.exports = { bill, sum, payment, PAYMENT_LABELS };
