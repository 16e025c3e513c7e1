// 订餐: the menu of a day and meal, the cart, one order per cart, paying. Runs at 00:30 and 12:00
// school time (the fixtures' cut-offs are relative to the clock; "today" is the school's day).
const { installWx, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const ct = require('../helpers/canteen');
const tokens = require('../../services/tokens');
const clock = require('../helpers/clock');

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a', fx.user())); // 教职工: the staff price
});

async function openMenu(menus, query) {
  mock.route('GET', '/api/v1/canteen/menus', typeof menus === 'function' ? menus : [200, menus]);
  const page = render('packageCanteen/pages/menu/menu');
  await page.instance.onLoad(query || {});
  await flush();
  return page;
}

const dish = (page, name) => page.querySelectorAll('.dish').filter(d => d.dom.textContent.indexOf(name) >= 0)[0];

describe('订餐 menu', () => {
  test('a dish with a photo shows its thumbnail (a signed link on the API host); one without shows none', async () => {
    const thumb = '/api/v1/canteen/dish-photos/tok-thumb';
    const withPhoto = ct.menu();
    withPhoto.items[0] = ct.item({ photo_url: '/api/v1/canteen/dish-photos/tok-photo', thumb_url: thumb });
    const page = await openMenu([withPhoto]);
    const thumbs = page.querySelectorAll('.thumb');
    expect(thumbs).toHaveLength(1); // 红烧肉's alone
    expect(page.instance.data.menu.items.map(i => i.thumb)).toEqual(['http://api.test' + thumb, '', '']);
  });

  test('today (school time) and the next 6 days, 早/午/晚; asks for today\'s lunch', async () => {
    const page = await openMenu([ct.menu()]);
    const expected = ct.menu().day; // the school's date, also at 00:30 when UTC is still yesterday
    expect(mock.calls('GET', '/api/v1/canteen/menus')[0].data).toEqual({ date: expected, meal: 'lunch' });
    const days = page.querySelectorAll('.day');
    expect(days).toHaveLength(7);
    expect(days[0].dom.textContent).toContain('今天');
    expect(days[0].dom.textContent).toContain(Number(expected.slice(8)) + '日');
    expect(days[1].dom.textContent).toContain('明天');
    expect(page.querySelectorAll('.meal').map(m => m.dom.textContent)).toEqual(['早', '午', '晚']);

    await fire(days[2]);
    expect(mock.calls('GET', '/api/v1/canteen/menus')[1].data.date).toBe(page.instance.data.days[2].date);
    await fire(page.querySelectorAll('.meal')[2]);
    expect(mock.calls('GET', '/api/v1/canteen/menus')[2].data.meal).toBe('dinner');
  });

  test('at 00:30 school time "today" is the school\'s day, not UTC\'s', async () => {
    clock.set('2026-10-14T00:30:00+08:00');
    const page = await openMenu([]);
    expect(mock.calls('GET', '/api/v1/canteen/menus')[0].data.date).toBe('2026-10-14');
    expect(page.instance.data.days.map(d => d.date).slice(0, 2)).toEqual(['2026-10-14', '2026-10-15']);
    expect(page.instance.data.days[6].date).toBe('2026-10-20');
  });

  test('each dish at my price with the portions left; sold out greyed without +/−; the cut-off', async () => {
    const page = await openMenu([ct.menu()]);
    const t = text(page);
    expect(t).toContain('第一食堂 午餐');
    expect(page.querySelector('.cutoff').dom.textContent).toMatch(/^\d\d:\d\d 截止$/); // today's, an hour away
    expect(t).not.toContain('已截止');
    expect(dish(page, '红烧肉').dom.textContent).toContain('¥12.00'); // staff price
    expect(dish(page, '红烧肉').dom.textContent).toContain('剩 3 份');
    const fish = dish(page, '清蒸鱼');
    expect(fish.dom.textContent).toContain('已售罄');
    expect(fish.dom.className).toContain('dish--off');
    expect(page.querySelectorAll('.plus')).toHaveLength(2);
  });

  test('a cut-off on another day (breakfast: the evening before) says its date', async () => {
    const now = Date.now();
    const page = await openMenu([ct.menu({ orders_close_at: new Date(now + 30 * 3600 * 1000).toISOString() })]);
    expect(page.querySelector('.cutoff').dom.textContent).toMatch(/^\d+月\d+日 \d\d:\d\d 截止$/);
  });

  test('a student sees the student price (the server says the price group)', async () => {
    tokens.save(fx.tokens('s', fx.student()));
    const page = await openMenu([ct.menu({ price_group: 'student' })]);
    expect(dish(page, '红烧肉').dom.textContent).toContain('¥10.00');
  });

  test('after the cut-off: 已截止, nothing can be added, no cart', async () => {
    const page = await openMenu([ct.menu({ open: false })]);
    expect(page.querySelector('.cutoff').dom.textContent).toMatch(/^已截止（.*\d\d:\d\d）$/);
    expect(text(page)).toContain('不能再订');
    expect(page.querySelectorAll('.plus')).toHaveLength(0);
    expect(page.querySelector('.submit')).toBeUndefined();
    page.instance.change(101, 1);
    expect(page.instance.data.count).toBe(0);
  });

  test('no menu for that meal says so', async () => {
    const page = await openMenu([]);
    expect(text(page)).toContain('暂无菜单');
  });

  test('+/− within the per-person cap and the portions left; the cart bar sums', async () => {
    const page = await openMenu([ct.menu()]);
    const ROW = { 红烧肉: 0, 番茄炒蛋: 1 }; // the sold-out 清蒸鱼 has no stepper
    const plus = name => fire(page.querySelectorAll('.plus')[ROW[name]]);
    await plus('红烧肉');
    await plus('红烧肉');
    await plus('红烧肉'); // cap 2 per person
    expect(page.instance.data.menu.items[0].qty).toBe(2);
    expect(mock.toasts()).toContain('每人限 2 份');
    await plus('番茄炒蛋');
    expect(text(page)).toContain('已选 3 份');
    expect(page.querySelector('.total').dom.textContent).toBe('¥30.00');
    await fire(page.querySelectorAll('.minus')[0]);
    expect(page.querySelector('.total').dom.textContent).toBe('¥18.00');
  });

  test('portions left cap the cart too, and so does the per-order cap', async () => {
    const m = ct.menu({ max_per_order: 3 });
    m.items[0] = ct.item({ remaining: 1, max_per_person: 2 });
    const page = await openMenu([m]);
    page.instance.change(101, 1);
    page.instance.change(101, 1);
    expect(page.instance.data.menu.items[0].qty).toBe(1);
    expect(mock.toasts()).toContain('仅剩 1 份');
    page.instance.change(102, 1);
    page.instance.change(102, 1);
    page.instance.change(102, 1);
    expect(page.instance.data.count).toBe(3);
    expect(mock.toasts()).toContain('每单最多 3 份');
  });
});

describe('提交订单 and paying', () => {
  function placed() {
    return [201, { order: ct.order({ status: 'pending_payment' }), payment: { payment_id: 41, status: 'created' } }];
  }

  beforeEach(() => {
    mock.route('POST', '/api/v1/payments/41/checkout', [200, { payment_id: 41, status: 'created', params: ct.PARAMS }]);
  });

  async function cartOf(page) {
    page.instance.change(101, 2);
    page.instance.change(101, -1);
    page.instance.change(102, 1);
    await flush();
  }

  test('a double tap is one POST with one request_id; paid → the order page asks the server', async () => {
    mock.route('POST', '/api/v1/canteen/orders', placed());
    const page = await openMenu([ct.menu()]);
    await cartOf(page);
    page.instance.onSubmit();
    await fire(page.querySelector('.submit'));
    const posts = mock.calls('POST', '/api/v1/canteen/orders');
    expect(posts).toHaveLength(1);
    expect(posts[0].data).toMatchObject({ menu_id: 21, lines: [{ menu_item_id: 101, quantity: 1 }, { menu_item_id: 102, quantity: 1 }] });
    expect(posts[0].data.request_id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(mock.calls('POST', '/api/v1/payments/41/checkout')).toHaveLength(1);
    expect(mock.wx.requestPayment).toHaveBeenCalledWith(expect.objectContaining(ct.PARAMS));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/order/order?id=7&paying=1' });
  });

  test('WeChat Pay down at checkout: its message, and the order opens as 待支付 (the portions stay held)', async () => {
    mock.route('POST', '/api/v1/canteen/orders', placed());
    mock.route('POST', '/api/v1/payments/41/checkout', [502, { code: 502, status: 'Bad Gateway', error_code: 'payments.wechat_unavailable', message: '微信支付暂时不可用，请稍后再试' }]);
    const page = await openMenu([ct.menu()]);
    await cartOf(page);
    await fire(page.querySelector('.submit'));
    expect(mock.toasts()).toContain('微信支付暂时不可用，请稍后再试');
    expect(mock.wx.requestPayment).not.toHaveBeenCalled();
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/order/order?id=7' });
    expect(page.instance.data.submitting).toBe(false);
  });

  test('no answer (network): the cart stays and 提交订单 again sends the same request_id; a changed cart is a new one', async () => {
    let n = 0;
    mock.route('POST', '/api/v1/canteen/orders', () => (n++ === 0 ? { fail: 'request:fail timeout' } : placed()));
    const page = await openMenu([ct.menu()]);
    await cartOf(page);
    await fire(page.querySelector('.submit'));
    expect(mock.wx.navigateTo).not.toHaveBeenCalled();
    expect(text(page)).toContain('已选 2 份');
    await fire(page.querySelector('.submit'));
    const ids = mock.calls('POST', '/api/v1/canteen/orders').map(c => c.data.request_id);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/order/order?id=7&paying=1' });

    await cartOf(page);
    await fire(page.querySelector('.submit'));
    const third = mock.calls('POST', '/api/v1/canteen/orders')[2].data.request_id;
    expect(third).not.toBe(ids[0]);
  });

  test('a cancelled payment opens the order (待支付, 去支付) without asking the server to wait', async () => {
    mock.route('POST', '/api/v1/canteen/orders', placed());
    const page = await openMenu([ct.menu()]);
    await cartOf(page);
    mock.payment('cancel');
    await fire(page.querySelector('.submit'));
    expect(mock.toasts()).toContain('已取消支付');
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/order/order?id=7' });
  });

  test('sold out meanwhile: the server\'s message, and the menu as it is now', async () => {
    mock.route('POST', '/api/v1/canteen/orders', [409, { code: 409, status: 'Conflict', error_code: 'canteen.sold_out', message: '「红烧肉」已售罄' }]);
    const page = await openMenu([ct.menu()]);
    await cartOf(page);
    await fire(page.querySelector('.submit'));
    expect(mock.toasts()).toContain('「红烧肉」已售罄');
    expect(mock.wx.requestPayment).not.toHaveBeenCalled();
    expect(mock.calls('GET', '/api/v1/canteen/menus')).toHaveLength(2);
    expect(page.instance.data.submitting).toBe(false);
  });

  test('我的订单 opens the list', async () => {
    const page = await openMenu([ct.menu()]);
    await fire(page.querySelector('.my-orders'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/orders/orders' });
  });
});
