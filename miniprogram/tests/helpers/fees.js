// Bills and payments shaped like the fees and payments APIs' answers.

const ITEMS = {
  1: { id: 1, name: '学费', category: '学费', term: '2026秋', due_date: '2026-10-31', description: '' },
  2: { id: 2, name: '住宿费', category: '住宿费', term: '2026秋', due_date: '2026-10-31', description: '' },
  3: { id: 3, name: '教材费', category: '教材费', term: '2026秋', due_date: '2026-11-15', description: '' },
};
const LABELS = { unpaid: '待缴费', paying: '支付中', paid: '已缴费', waived: '已减免', refunded: '已退费' };
const AMOUNTS = { 1: 480000, 2: 120000, 3: 35650 };

function bill(overrides) {
  const o = Object.assign({ id: 11, itemId: 1, status: 'unpaid' }, overrides);
  const paid = o.status === 'paid' || o.status === 'refunded';
  return Object.assign(
    {
      id: o.id,
      status: o.status,
      status_label: LABELS[o.status],
      amount_fen: AMOUNTS[o.itemId],
      item: ITEMS[o.itemId],
      student: { id: 5, number: 'S2026001', name: '陈同学', class_name: '高一(1)班' },
      order_id: paid ? 7 : null,
      paid_at: paid ? '2026-10-14T02:05:00+00:00' : null,
      paid_by_name: paid ? '陈同学家长' : null,
      receipt_no: paid ? 'SF2026101400000011' : null,
      transaction_id: paid ? '4200001234202610140000000001' : null,
      note: null,
      refund_requested: false,
    },
    overrides && overrides.raw
  );
}

function chenBills() {
  return [bill({ id: 11, itemId: 1 }), bill({ id: 12, itemId: 2 }), bill({ id: 13, itemId: 3 })];
}

function payment(overrides) {
  return {
    payment: Object.assign(
      {
        id: 31,
        biz_type: 'fees.order',
        biz_id: 7,
        payer_id: 4,
        amount_fen: 635650,
        refunded_fen: 0,
        description: '陈同学 2026秋 学费等3项',
        out_trade_no: 'P20261014100000ABCDEF123456',
        status: 'created',
        status_label: '待支付',
        expires_at: '2026-10-14T02:30:00+00:00',
        transaction_id: null,
        paid_at: null,
        closed_at: null,
        created_at: '2026-10-14T02:00:00+00:00',
      },
      overrides
    ),
    refunds: [],
  };
}

const PARAMS = { appId: 'wxapp', timeStamp: '1791000000', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 'sig' };

const parent = children =>
  require('./fixtures').user({
    id: 4,
    nickname: '陈同学家长',
    roles: ['parent'],
    person: { kind: 'parent', name: '陈同学家长', number: null, department: null, class_name: null },
    children,
  });

const CHEN = { id: 5, name: '陈同学', number: 'S2026001', class_name: '高一(1)班' };
const LIN = { id: 6, name: '林同学', number: 'S2026002', class_name: '高一(1)班' };

module.exports = { bill, chenBills, payment, parent, PARAMS, CHEN, LIN };
