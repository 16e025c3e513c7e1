// 我的订单 and 订单详情: the list, the pickup code and QR, paying (the shared poll), 去支付, cancel.
// Runs at 00:30 and 12:00 school time (deadlines in the fixtures are relative to the clock).
const { installWx, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const ct = require('../helpers/canteen');
const tokens = require('../../services/tokens');

let mock;
let page;

beforeEach(() => {
  mock = installWx();
  mock.wx.downloadFile = jest.fn(o => setTimeout(() => o.success({ statusCode: 200, tempFilePath: 'wxfile://tmp/qr.png' }), 0));
  tokens.save(fx.tokens('a', fx.user()));
  page = null;
});

afterEach(() => page && page.instance.onUnload && page.instance.onUnload());

describe('我的订单', () => {
  test('my orders, newest first, paginated, status in Chinese; a tap opens the order', async () => {
    const first = [ct.order({ raw: { id: 9 } }), ct.order({ status: 'pending_payment', raw: { id: 8 } }), ct.order({ status: 'picked_up', raw: { id: 7 } })];
    mock.route('GET', '/api/v1/canteen/orders/mine', req =>
      req.data.page === 1
        ? [200, first, { 'X-Pagination': JSON.stringify({ total: 4, total_pages: 2, page: 1, next_page: 2 }) }]
        : [200, [ct.order({ status: 'cancelled', raw: { id: 6 } })], { 'X-Pagination': JSON.stringify({ total: 4, total_pages: 2, page: 2 }) }]
    );
    page = render('packageCanteen/pages/orders/orders');
    await page.instance.onLoad();
    await flush();
    expect(page.querySelectorAll('.order')).toHaveLength(3);
    expect(page.querySelectorAll('.order__status').map(s => s.dom.textContent)).toEqual(['待取餐', '待支付', '已取餐']);
    expect(text(page)).toContain('取餐码 482913');
    expect(text(page)).toContain('红烧肉 × 2，番茄炒蛋 × 1');

    await page.instance.onReachBottom();
    await flush();
    expect(page.querySelectorAll('.order')).toHaveLength(4);
    expect(text(page)).toContain('已取消');
    expect(text(page)).toContain('没有更多了');

    await fire(page.querySelectorAll('.order')[1]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/order/order?id=8' });
  });

  test('no orders yet says so', async () => {
    mock.route('GET', '/api/v1/canteen/orders/mine', [200, [], { 'X-Pagination': '{"total": 0, "total_pages": 0, "page": 1}' }]);
    page = render('packageCanteen/pages/orders/orders');
    await page.instance.onLoad();
    await flush();
    expect(text(page)).toContain('还没有订餐');
  });
});

describe('订单详情', () => {
  async function openOrder(answer, query) {
    mock.route('GET', '/api/v1/canteen/orders/7', typeof answer === 'function' ? answer : [200, answer]);
    page = render('packageCanteen/pages/order/order');
    await page.instance.onLoad(Object.assign({ id: '7' }, query));
    await flush();
    return page;
  }

  test('paid: 待取餐, the pickup code in large digits, its QR, where and when', async () => {
    await openOrder(ct.order());
    expect(page.querySelector('.status').dom.textContent).toBe('待取餐');
    expect(page.querySelectorAll('.code__digit').map(d => d.dom.textContent).join('')).toBe('482913');
    expect(mock.wx.downloadFile).toHaveBeenCalledWith(expect.objectContaining({ url: expect.stringContaining('/api/v1/canteen/orders/7/qr') }));
    expect(page.querySelector('.qr')).toBeDefined();
    expect(page.instance.data.qr).toBe('wxfile://tmp/qr.png');
    const t = text(page);
    expect(t).toContain('第一食堂');
    expect(t).toContain('一号窗口');
    expect(page.querySelector('.pickup').dom.textContent).toMatch(/\d+月\d+日 \d\d:\d\d–\d\d:\d\d/);
    expect(page.querySelector('.total').dom.textContent).toBe('¥30.00');
    expect(page.querySelector('.pay')).toBeUndefined();
  });

  test('just paid: asks the server until the payment is paid, then shows the pickup code', async () => {
    let status = 'created';
    let orderStatus = 'pending_payment';
    mock.route('GET', '/api/v1/payments/41', () => [200, ct.payment(status)]);
    await openOrder(() => [200, ct.order({ status: orderStatus })], { paying: '1' });
    expect(mock.calls('GET', '/api/v1/payments/41')[0].data).toEqual({ sync: 1 });
    expect(text(page)).toContain('正在确认支付结果');
    expect(page.querySelector('.pay')).toBeUndefined();

    status = 'paid';
    orderStatus = 'paid';
    page.instance.stop();
    await page.instance.poll();
    await flush();
    expect(page.querySelector('.status').dom.textContent).toBe('待取餐');
    expect(page.querySelectorAll('.code__digit')).toHaveLength(6);
    expect(page.instance.timer).toBeNull();
  });

  test('payment cancelled: the order stays 待支付 with 去支付, which pays the same payment', async () => {
    mock.route('POST', '/api/v1/payments/41/checkout', [200, { payment_id: 41, status: 'created', params: ct.PARAMS }]);
    mock.route('GET', '/api/v1/payments/41', [200, ct.payment('paid')]);
    let orderStatus = 'pending_payment';
    await openOrder(() => [200, ct.order({ status: orderStatus })]);
    expect(page.querySelector('.status').dom.textContent).toBe('待支付');
    expect(text(page)).toContain('前完成支付');
    expect(mock.calls('GET', '/api/v1/payments/41')).toHaveLength(0);

    orderStatus = 'paid';
    await fire(page.querySelector('.pay'));
    expect(mock.wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining(ct.PARAMS));
    expect(mock.calls('GET', '/api/v1/payments/41')).toHaveLength(1);
    expect(page.querySelector('.status').dom.textContent).toBe('待取餐');
  });

  test('去支付 cancelled again stays 待支付', async () => {
    mock.route('POST', '/api/v1/payments/41/checkout', [200, { payment_id: 41, status: 'created', params: ct.PARAMS }]);
    await openOrder(ct.order({ status: 'pending_payment' }));
    mock.payment('cancel');
    await fire(page.querySelector('.pay'));
    expect(mock.toasts()).toContain('已取消支付');
    expect(mock.calls('GET', '/api/v1/payments/41')).toHaveLength(0);
    expect(page.querySelector('.status').dom.textContent).toBe('待支付');
    expect(page.querySelector('.pay')).toBeDefined();
  });

  test('取消订单: a confirm that says the refund, then 已取消', async () => {
    mock.route('POST', '/api/v1/canteen/orders/7/cancel', [200, ct.order({ status: 'cancelled' })]);
    await openOrder(ct.order());
    await fire(page.querySelector('.cancel'));
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: '已支付的 ¥30.00 将原路退回' }));
    expect(mock.calls('POST', '/api/v1/canteen/orders/7/cancel')).toHaveLength(1);
    expect(page.querySelector('.status').dom.textContent).toBe('已取消');
    expect(page.querySelectorAll('.code__digit')).toHaveLength(0);
    expect(page.querySelector('.cancel')).toBeUndefined();
  });

  test('取消订单 declined in the confirm: nothing is sent', async () => {
    mock = installWx({ confirm: false });
    tokens.save(fx.tokens('a', fx.user()));
    await openOrder(ct.order());
    await fire(page.querySelector('.cancel'));
    expect(mock.calls('POST', '/api/v1/canteen/orders/7/cancel')).toHaveLength(0);
    expect(page.querySelector('.status').dom.textContent).toBe('待取餐');
  });

  test('past the deadline meanwhile: the server\'s message; after it no 取消订单', async () => {
    mock.route('POST', '/api/v1/canteen/orders/7/cancel', [409, { code: 409, status: 'Conflict', error_code: 'canteen.cancel_closed', message: '已过取消截止时间（10月14日 09:00），不能取消' }]);
    await openOrder(ct.order());
    await fire(page.querySelector('.cancel'));
    expect(mock.toasts()).toContain('已过取消截止时间（10月14日 09:00），不能取消');
    expect(page.querySelector('.status').dom.textContent).toBe('待取餐');

    await openOrder(ct.order({ cancellable: false }));
    expect(page.querySelector('.cancel')).toBeUndefined();
  });

  test('picked up says when; someone else\'s order is 加载失败', async () => {
    await openOrder(ct.order({ status: 'picked_up' }));
    expect(text(page)).toContain('已取餐');
    expect(text(page)).toMatch(/已于 \d\d:\d\d 取餐/);

    mock.route('GET', '/api/v1/canteen/orders/8', [404, { code: 404, status: 'Not Found', error_code: 'canteen.order_not_found', message: '订单不存在' }]);
    page = render('packageCanteen/pages/order/order');
    await page.instance.onLoad({ id: '8' });
    await flush();
    expect(text(page)).toContain('加载失败');
    expect(text(page)).toContain('订单不存在');
  });
});
