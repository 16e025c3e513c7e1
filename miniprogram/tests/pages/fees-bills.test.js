const { installWx } = require('../helpers/wx');
const { render, show, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const fees = require('../helpers/fees');
const tokens = require('../../services/tokens');

let mock;

beforeEach(() => {
  mock = installWx();
});

function signedInAs(user) {
  tokens.save(fx.tokens('a', user));
  mock.route('GET', '/api/v1/me', [200, user]);
}

async function openBills() {
  const page = render('packageFees/pages/bills/bills');
  await page.instance.onLoad({});
  return page;
}

describe('缴费 (my bills)', () => {
  test('a student sees their bills, unpaid ones picked, the sum in yuan, and pays them on the cashier page', async () => {
    signedInAs(fx.student());
    mock.route('GET', '/api/v1/fees/bills', [200, fees.chenBills()]);
    const page = await openBills();

    expect(mock.calls('GET', '/api/v1/fees/bills')[0].data).toEqual({});
    expect(page.querySelectorAll('.bill__status').map(n => n.dom.textContent)).toEqual(['待缴费', '待缴费', '待缴费']);
    expect(text(page)).toContain('2026秋 学费');
    expect(text(page)).toContain('¥4800.00');
    expect(page.querySelector('.total').dom.textContent).toBe('¥6356.50');

    await fire(page.querySelectorAll('.bill')[1]); // un-pick 住宿费
    expect(page.querySelector('.total').dom.textContent).toBe('¥5156.50');

    await fire(page.querySelector('.pay'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageFees/pages/cashier/cashier?bills=' + encodeURIComponent('11,13') });
  });

  test('a parent of two children switches between them', async () => {
    signedInAs(fees.parent([fees.CHEN, fees.LIN]));
    mock.route('GET', '/api/v1/fees/bills', req =>
      req.data.student_id === 6 ? [200, [fees.bill({ id: 21, raw: { student: { id: 6, number: 'S2026002', name: '林同学', class_name: '高一(1)班' } } })]] : [200, fees.chenBills()]
    );
    const page = await openBills();

    expect(page.querySelectorAll('.child').map(n => n.dom.textContent)).toEqual(['陈同学', '林同学']);
    expect(mock.calls('GET', '/api/v1/fees/bills')[0].data).toEqual({ student_id: 5 });
    expect(page.querySelectorAll('.bill')).toHaveLength(3);

    await fire(page.querySelectorAll('.child')[1]);
    expect(mock.calls('GET', '/api/v1/fees/bills')[1].data).toEqual({ student_id: 6 });
    expect(page.querySelectorAll('.bill')).toHaveLength(1);

    await fire(page.querySelector('.pay'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageFees/pages/cashier/cashier?bills=21&student=6' });
  });

  test('a paid bill opens its receipt and cannot be picked; nothing picked, nothing to pay', async () => {
    signedInAs(fx.student());
    mock.route('GET', '/api/v1/fees/bills', [200, [fees.bill({ id: 11, status: 'paid' }), fees.bill({ id: 12, itemId: 2, status: 'waived' })]]);
    const page = await openBills();

    expect(page.querySelectorAll('.bill__status').map(n => n.dom.textContent)).toEqual(['已缴费', '已减免']);
    expect(text(page)).toContain('查看收据');
    expect(page.querySelector('.total').dom.textContent).toBe('¥0.00');
    await fire(page.querySelectorAll('.bill')[0]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageFees/pages/receipt/receipt?ids=11' });
    page.instance.onPay();
    expect(mock.toasts()).toContain('请选择要缴的账单');
  });

  test('no bills yet, and a failed load offers 重试', async () => {
    signedInAs(fx.student());
    mock.route('GET', '/api/v1/fees/bills', [200, []]);
    const page = await openBills();
    expect(text(page)).toContain('暂无账单');

    mock.route('GET', '/api/v1/fees/bills', { fail: 'request:fail timeout' });
    await page.instance.load();
    expect(text(page)).toContain('加载失败');
    expect(text(page)).toContain('重试');
  });

  test('缴费记录 opens the payment history', async () => {
    signedInAs(fx.student());
    mock.route('GET', '/api/v1/fees/bills', [200, fees.chenBills()]);
    const page = await show('packageFees/pages/bills/bills', {});
    await fire(page.querySelector('.history-link'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageFees/pages/history/history' });
  });
});
