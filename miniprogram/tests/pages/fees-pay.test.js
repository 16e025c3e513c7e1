const { installWx, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const fees = require('../helpers/fees');
const clock = require('../helpers/clock');
const tokens = require('../../services/tokens');

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a', fees.parent([fees.CHEN])));
});

describe('收银台', () => {
  async function openCashier(query) {
    mock.route('GET', '/api/v1/fees/bills', [200, fees.chenBills()]);
    const page = render('packageFees/pages/cashier/cashier');
    await page.instance.onLoad(query);
    return page;
  }

  function checkoutAnswer() {
    return [200, { order_id: 7, payment_id: 31, amount_fen: 515650, bill_ids: [11, 13], params: fees.PARAMS }];
  }

  test('shows the picked bills and their sum, pays with wx.requestPayment and opens the result page', async () => {
    mock.route('POST', '/api/v1/fees/checkouts', checkoutAnswer());
    const page = await openCashier({ bills: '11,13', student: '5' });

    expect(mock.calls('GET', '/api/v1/fees/bills')[0].data).toEqual({ student_id: 5 });
    expect(page.querySelectorAll('.cashier__item')).toHaveLength(2);
    expect(text(page)).toContain('陈同学');
    expect(page.querySelector('.total').dom.textContent).toBe('¥5156.50');

    await fire(page.querySelector('.pay'));

    expect(mock.calls('POST', '/api/v1/fees/checkouts')[0].data).toEqual({ bill_ids: [11, 13] });
    expect(mock.wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining(fees.PARAMS));
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageFees/pages/result/result?payment=31&bills=' + encodeURIComponent('11,13') });
  });

  test('a cancelled payment stays on the cashier; paying again asks for the same bills', async () => {
    mock.route('POST', '/api/v1/fees/checkouts', checkoutAnswer());
    const page = await openCashier({ bills: '11,13', student: '5' });
    mock.payment('cancel');

    await fire(page.querySelector('.pay'));
    expect(mock.toasts()).toContain('已取消支付');
    expect(mock.wx.redirectTo).not.toHaveBeenCalled();

    await fire(page.querySelector('.pay'));
    expect(mock.calls('POST', '/api/v1/fees/checkouts').map(c => c.data)).toEqual([{ bill_ids: [11, 13] }, { bill_ids: [11, 13] }]);
    expect(mock.wx.redirectTo).toHaveBeenCalledTimes(1);
  });

  test('a payment WeChat reports as failed still asks the server on the result page', async () => {
    mock.route('POST', '/api/v1/fees/checkouts', checkoutAnswer());
    const page = await openCashier({ bills: '11,13' });
    mock.payment('fail');
    await fire(page.querySelector('.pay'));
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: expect.stringContaining('/packageFees/pages/result/result?payment=31') });
  });

  test('a bill already in another payment: the server says why and nothing opens', async () => {
    mock.route('POST', '/api/v1/fees/checkouts', [409, { code: 409, status: 'Conflict', error_code: 'fees.bill_in_other_order', message: '账单已在另一笔支付中，请先完成或等待其关闭' }]);
    const page = await openCashier({ bills: '11' });
    await fire(page.querySelector('.pay'));
    expect(mock.toasts()).toContain('账单已在另一笔支付中，请先完成或等待其关闭');
    expect(mock.wx.requestPayment).not.toHaveBeenCalled();
    expect(page.instance.data.paying).toBe(false);
  });
});

describe('支付结果', () => {
  let page;

  afterEach(() => page && page.instance.onUnload());

  async function openResult(answer) {
    mock.route('GET', '/api/v1/payments/31', answer);
    page = render('packageFees/pages/result/result');
    await page.instance.onLoad({ payment: '31', bills: '11,13' });
    await flush();
    return page;
  }

  test('asks the server (sync) every 2 s until the payment is paid, then shows 缴费成功 and the receipts', async () => {
    const spy = jest.spyOn(global, 'setTimeout');
    let status = 'created';
    await openResult(() => [200, fees.payment({ status })]);

    expect(mock.calls('GET', '/api/v1/payments/31')[0].data).toEqual({ sync: 1 });
    expect(text(page)).toContain('正在确认支付结果');
    expect(spy.mock.calls.some(c => c[1] === 2000)).toBe(true);
    spy.mockRestore();

    status = 'paid';
    page.instance.stop();
    await page.instance.poll();
    expect(text(page)).toContain('缴费成功');
    expect(text(page)).toContain('¥6356.50');
    expect(page.instance.timer).toBeNull();

    await fire(page.querySelector('.receipt'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageFees/pages/receipt/receipt?ids=' + encodeURIComponent('11,13') });
  });

  test('stops after 60 s with a clear message; 刷新 asks again', async () => {
    let status = 'created';
    await openResult(() => [200, fees.payment({ status })]);
    page.instance.stop();

    clock.set(new Date(Date.now() + 61 * 1000).toISOString());
    await page.instance.poll();
    expect(text(page)).toContain('暂未查到支付结果');
    expect(text(page)).toContain('请勿重复付款');
    expect(page.instance.timer).toBeNull();

    status = 'paid';
    await fire(page.querySelector('.refresh'));
    expect(text(page)).toContain('缴费成功');
  });

  test('a payment closed unpaid says the bills can be paid again', async () => {
    await openResult([200, fees.payment({ status: 'closed' })]);
    expect(text(page)).toContain('支付已关闭');
    expect(text(page)).toContain('可重新缴费');
  });

  test('a network blip is asked again rather than shown as a failure', async () => {
    const spy = jest.spyOn(global, 'setTimeout');
    await openResult({ fail: 'request:fail timeout' });
    expect(text(page)).toContain('正在确认支付结果');
    expect(spy.mock.calls.some(c => c[1] === 2000)).toBe(true);
    spy.mockRestore();
  });
});
