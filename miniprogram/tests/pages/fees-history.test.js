const { installWx } = require('../helpers/wx');
const { render, text } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const fees = require('../helpers/fees');
const tokens = require('../../services/tokens');

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a', fees.parent([fees.CHEN])));
});

describe('缴费记录', () => {
  test('my payments, newest first, with their refunds', async () => {
    const refunded = fees.payment({ id: 32, status: 'partially_refunded', paid_at: '2026-10-13T02:05:00+00:00', refunded_fen: 35650 });
    refunded.refunds = [{ id: 1, amount_fen: 35650, reason: '教材未发', status: 'succeeded' }];
    mock.route('GET', '/api/v1/payments', [200, [fees.payment({ id: 33 }), refunded], fx.paginationHeader(1, 1, 2)]);
    const page = render('packageFees/pages/history/history');
    await page.instance.onLoad({});

    expect(mock.calls('GET', '/api/v1/payments')[0].data).toEqual({ page: 1, page_size: 20 });
    expect(page.querySelectorAll('.payment__status').map(n => n.dom.textContent)).toEqual(['待支付', '部分退款']);
    expect(page.querySelector('.payment__refund').dom.textContent.replace(/\s+/g, '')).toBe('已退款¥356.50（教材未发）');
    expect(text(page)).toContain('陈同学 2026秋 学费等3项');
    expect(text(page)).toContain('10月13日 10:05'); // school time
    expect(text(page)).toContain('没有更多了');
  });

  test('nothing paid yet', async () => {
    mock.route('GET', '/api/v1/payments', [200, [], fx.paginationHeader(1, 0, 0)]);
    const page = render('packageFees/pages/history/history');
    await page.instance.onLoad({});
    expect(text(page)).toContain('还没有缴费记录');
  });
});

describe('缴费收据', () => {
  test('each paid bill with its receipt number, WeChat transaction id, amount and school time', async () => {
    mock.route('GET', '/api/v1/fees/bills/11', [200, fees.bill({ id: 11, status: 'paid' })]);
    mock.route('GET', '/api/v1/fees/bills/13', [200, fees.bill({ id: 13, itemId: 3, status: 'refunded' })]);
    const page = render('packageFees/pages/receipt/receipt');
    await page.instance.onLoad({ ids: '11,13' });

    expect(page.querySelectorAll('.receipt')).toHaveLength(2);
    expect(page.querySelectorAll('.receipt__amount').map(n => n.dom.textContent)).toEqual(['¥4800.00', '¥356.50']);
    expect(page.querySelector('.receipt__no').dom.textContent).toBe('SF2026101400000011');
    expect(page.querySelector('.receipt__time').dom.textContent).toBe('10月14日 10:05');
    expect(text(page)).toContain('4200001234202610140000000001');
    expect(text(page)).toContain('陈同学（S2026001）');
    expect(text(page)).toContain('已退费');
  });

  test('an unpaid bill has no receipt yet', async () => {
    mock.route('GET', '/api/v1/fees/bills/12', [200, fees.bill({ id: 12 })]);
    const page = render('packageFees/pages/receipt/receipt');
    await page.instance.onLoad({ ids: '12' });
    expect(text(page)).toContain('暂无收据');
  });
});
