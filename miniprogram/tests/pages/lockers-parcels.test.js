// 我的快递: the pickup code and QR, where and since when, 开柜取件 (paying the overdue fee first through the
// shared payment service and poll), 代取, the states in Chinese, the empty state, pull-to-refresh.
// Runs at 00:30 and 12:00 school time (the fixtures' times are relative to the clock).
const { installWx, envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const lk = require('../helpers/lockers');
const tokens = require('../../services/tokens');

let mock;
let page;

beforeEach(() => {
  mock = installWx();
  mock.wx.downloadFile = jest.fn(o => setTimeout(() => o.success({ statusCode: 200, tempFilePath: 'wxfile://tmp/qr-' + o.url.split('/').slice(-2)[0] + '.png' }), 0));
  tokens.save(fx.tokens('a', fx.user()));
  page = null;
});

afterEach(() => page && page.instance.onUnload && page.instance.onUnload());

async function openParcels(rows) {
  if (rows) mock.route('GET', '/api/v1/lockers/parcels', typeof rows === 'function' ? rows : [200, rows]);
  page = render('packageLockers/pages/parcels/parcels');
  await page.instance.onLoad();
  await flush();
  return page;
}

const feeDue = () => [409, envelope(409, 'lockers.fee_due', '包裹已超过免费保管时间，请先支付超期保管费', { payment_id: 51, amount_fen: 100 })];

describe('我的快递', () => {
  test('a waiting parcel: the pickup code in large digits, its QR, where, since when, 待取件', async () => {
    await openParcels([lk.parcel()]);
    expect(page.querySelectorAll('.code__digit').map(d => d.dom.textContent).join('')).toBe('482913');
    expect(mock.wx.downloadFile).toHaveBeenCalledWith(expect.objectContaining({ url: expect.stringContaining('/api/v1/lockers/parcels/31/qr') }));
    expect(page.instance.data.qrs[31]).toBe('wxfile://tmp/qr-31.png');
    expect(page.querySelector('.qr')).toBeDefined();
    expect(page.querySelector('.parcel__status').dom.textContent).toBe('待取件');
    expect(page.querySelector('.parcel__where').dom.textContent).toBe('B1 号快递柜 A03 号格口');
    const t = text(page);
    expect(t).toContain('东校区 › 行政楼');
    expect(t).toMatch(/运单号 SF1000000001\s*· (\d+年)?\d+月\d+日 \d\d:\d\d 入柜/);
    expect(t).not.toContain('超期保管费');
    expect(page.querySelector('.open').dom.textContent).toBe('开柜取件');
  });

  test('a counter parcel says the shelf and has no 开柜; collected and returned ones say so, without a code', async () => {
    await openParcels([
      lk.atCounter(),
      lk.parcel({ status: 'picked_up', raw: { id: 30 } }),
      lk.parcel({ status: 'to_return', raw: { id: 29 } }),
    ]);
    expect(page.querySelectorAll('.parcel__status').map(s => s.dom.textContent)).toEqual(['待取件', '已取件', '待退回']);
    expect(page.querySelectorAll('.parcel__where')[0].dom.textContent).toBe('驿站货架 H00032');
    expect(text(page)).toContain('请到驿站出示取件码或二维码领取');
    expect(page.querySelectorAll('.open')).toHaveLength(0);
    expect(page.querySelectorAll('.code__digit')).toHaveLength(6); // the counter parcel's only
    expect(text(page)).toMatch(/已于 (\d+年)?\d+月\d+日 \d\d:\d\d 取件/);
    expect(text(page)).toContain('超过 3 天未取，已安排退回寄件方');
    expect(mock.wx.downloadFile).toHaveBeenCalledTimes(1);
  });

  test('no parcels: the empty state; a failed load: 加载失败 with 重试', async () => {
    await openParcels([]);
    expect(text(page)).toContain('暂无快递');

    mock.route('GET', '/api/v1/lockers/parcels', { fail: 'request:fail timeout' });
    await openParcels();
    expect(text(page)).toContain('加载失败');
    mock.route('GET', '/api/v1/lockers/parcels', [200, [lk.parcel()]]);
    await page.instance.load();
    await flush();
    expect(page.querySelectorAll('.parcel')).toHaveLength(1);
  });

  test('pull to refresh loads again and stops the spinner', async () => {
    let rows = [lk.parcel()];
    await openParcels(() => [200, rows]);
    rows = [lk.parcel({ status: 'picked_up' })];
    await page.instance.onPullDownRefresh();
    await flush();
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalled();
    expect(page.querySelector('.parcel__status').dom.textContent).toBe('已取件');
  });

  test('开柜取件 after a confirm opens the door, then shows the parcel collected', async () => {
    let rows = [lk.parcel()];
    mock.route('POST', '/api/v1/lockers/parcels/31/open', () => {
      rows = [lk.parcel({ status: 'picked_up' })];
      return [200, lk.parcel()];
    });
    await openParcels(() => [200, rows]);
    await fire(page.querySelector('.open'));
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: '柜门将在 B1 号快递柜 A03 号格口 打开，请在柜前操作' }));
    expect(mock.calls('POST', '/api/v1/lockers/parcels/31/open')).toHaveLength(1);
    expect(mock.toasts()).toContain('柜门已打开，取件后请关好柜门');
    expect(page.querySelector('.parcel__status').dom.textContent).toBe('已取件');
  });

  test('开柜 declined in the confirm sends nothing', async () => {
    mock = installWx({ confirm: false });
    tokens.save(fx.tokens('a', fx.user()));
    await openParcels([lk.parcel()]);
    await fire(page.querySelector('.open'));
    expect(mock.calls('POST', '/api/v1/lockers/parcels/31/open')).toHaveLength(0);
  });

  test('the fee due is shown; opening pays it (the shared payment and poll), then opens again', async () => {
    let opens = 0;
    mock.route('POST', '/api/v1/lockers/parcels/31/open', () => {
      opens += 1;
      return opens === 1 ? feeDue() : [200, lk.parcel()];
    });
    mock.route('POST', '/api/v1/payments/51/checkout', [200, { payment_id: 51, status: 'created', params: lk.PARAMS }]);
    mock.route('GET', '/api/v1/payments/51', [200, lk.payment('paid')]);
    await openParcels([lk.parcel({ raw: { fee_due_fen: 100 } })]);
    expect(text(page)).toContain('需支付超期保管费');
    expect(page.querySelector('.fee').dom.textContent).toBe('¥1.00');
    expect(page.querySelector('.open').dom.textContent).toBe('支付并开柜');

    await fire(page.querySelector('.open'));
    await flush();
    expect(mock.wx.showModal).toHaveBeenLastCalledWith(expect.objectContaining({ content: '包裹已超过免费保管时间，需支付 ¥1.00 后开柜' }));
    expect(mock.wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining(lk.PARAMS));
    expect(mock.calls('GET', '/api/v1/payments/51')[0].data).toEqual({ sync: 1 });
    expect(opens).toBe(2);
    expect(mock.toasts()).toContain('柜门已打开，取件后请关好柜门');
    expect(page.instance.data.busyId).toBe(0);
  });

  test('a cancelled fee payment: the door is not asked again and the fee stays due', async () => {
    mock.route('POST', '/api/v1/lockers/parcels/31/open', feeDue());
    mock.route('POST', '/api/v1/payments/51/checkout', [200, { payment_id: 51, status: 'created', params: lk.PARAMS }]);
    await openParcels([lk.parcel({ raw: { fee_due_fen: 100 } })]);
    mock.payment('cancel');
    await fire(page.querySelector('.open'));
    await flush();
    expect(mock.toasts()).toContain('已取消支付');
    expect(mock.calls('POST', '/api/v1/lockers/parcels/31/open')).toHaveLength(1);
    expect(mock.calls('GET', '/api/v1/payments/51')).toHaveLength(0);
    expect(page.instance.data.busyId).toBe(0);
  });

  test('a fee payment the server reports closed: no door, the page says so', async () => {
    mock.route('POST', '/api/v1/lockers/parcels/31/open', feeDue());
    mock.route('POST', '/api/v1/payments/51/checkout', [200, { payment_id: 51, status: 'created', params: lk.PARAMS }]);
    mock.route('GET', '/api/v1/payments/51', [200, lk.payment('closed')]);
    await openParcels([lk.parcel({ raw: { fee_due_fen: 100 } })]);
    await fire(page.querySelector('.open'));
    await flush();
    expect(mock.toasts()).toContain('支付未完成，请重新开柜');
    expect(mock.calls('POST', '/api/v1/lockers/parcels/31/open')).toHaveLength(1);
  });

  test('a bank offline: a clear message and nothing else', async () => {
    mock.route('POST', '/api/v1/lockers/parcels/31/open', [409, envelope(409, 'lockers.bank_offline', '快递柜离线')]);
    await openParcels([lk.parcel()]);
    await fire(page.querySelector('.open'));
    expect(mock.toasts()).toContain('快递柜离线，暂时不能开柜。请换一个快递柜，或把包裹放到驿站');
    expect(mock.wx.requestPayment).not.toHaveBeenCalled();
  });

  test('代取: shared by phone, 学号 or name; the server\'s refusal is shown', async () => {
    mock.route('POST', '/api/v1/lockers/parcels/31/share', req =>
      req.data.name === '无此人'
        ? [422, envelope(422, 'lockers.recipient_not_found', '找不到收件人')]
        : [200, lk.parcel({ raw: { shared_with: 3 } })]
    );
    await openParcels([lk.parcel()]);
    await fire(page.querySelector('.share'));
    await fire(page.querySelector('.share-input'), 'input', { value: '13800000009' });
    await fire(page.querySelector('.share-submit'));
    expect(mock.calls('POST', '/api/v1/lockers/parcels/31/share')[0].data).toEqual({ phone: '13800000009' });
    expect(mock.toasts()).toContain('已请对方代取，对方可凭取件码取件');

    await fire(page.querySelector('.share'));
    await fire(page.querySelector('.share-input'), 'input', { value: ' S2026001 ' });
    await fire(page.querySelector('.share-submit'));
    expect(mock.calls('POST', '/api/v1/lockers/parcels/31/share')[1].data).toEqual({ number: 'S2026001' });

    await fire(page.querySelector('.share'));
    await fire(page.querySelector('.share-input'), 'input', { value: '无此人' });
    await fire(page.querySelector('.share-submit'));
    expect(mock.toasts()).toContain('找不到收件人，请核对手机号、学号/工号或姓名');
  });

  test('a parcel shared with me says 代取 and cannot be shared on; one I shared says so', async () => {
    await openParcels([lk.parcel({ raw: { shared_with: 1 } }), lk.parcel({ raw: { id: 33, shared_with: 3 } })]);
    const cards = page.querySelectorAll('.parcel');
    expect(cards[0].dom.textContent).toContain('代取');
    expect(cards[0].dom.textContent).not.toContain('已请人代取');
    expect(cards[1].dom.textContent).toContain('已请人代取');
    expect(page.querySelectorAll('.open')).toHaveLength(2);
    expect(page.querySelectorAll('.share')).toHaveLength(1); // only mine can be shared (again)
  });
});
