// 食堂核销 (scan or type the pickup code) and 备餐单 (the production sheet and pickup progress).
// Runs at 00:30 and 12:00 school time.
const { installWx, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const ct = require('../helpers/canteen');
const tokens = require('../../services/tokens');
const tiles = require('../../utils/tiles');

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('c', ct.canteenStaff()));
});

function picked() {
  return [200, ct.order({ status: 'picked_up', raw: { pickup_code: '482913' } })];
}

async function openVerify(query) {
  const page = render('packageCanteen/pages/verify/verify');
  page.instance.onLoad(query || {});
  await flush();
  return page;
}

describe('食堂核销', () => {
  test('the 食堂核销 tile opens it for canteen staff; 订餐 opens the menu for teachers, students, parents', () => {
    const staffTiles = tiles.tilesFor(ct.canteenStaff());
    expect(tiles.findTile('canteen-verify', staffTiles)).toMatchObject({ ready: true, url: '/packageCanteen/pages/verify/verify' });
    expect(tiles.findTile('meals', tiles.tilesFor(fx.student()))).toMatchObject({ ready: true, url: '/packageCanteen/pages/menu/menu' });
    expect(tiles.findTile('canteen-verify', tiles.tilesFor(fx.student()))).toBeNull();
  });

  test('scanning the order\'s QR hands it out: 核销成功 with its dishes', async () => {
    mock.route('POST', '/api/v1/canteen/pickups', picked());
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.success({ result: 'https://x.test/mp/canteen-pickup?token=tok-abcdefgh123', scanType: 'QR_CODE' }), 0));
    const page = await openVerify();
    await fire(page.querySelector('.scan'));
    expect(mock.calls('POST', '/api/v1/canteen/pickups')[0].data).toEqual({ token: 'tok-abcdefgh123' });
    const t = text(page);
    expect(t).toContain('核销成功');
    expect(t).toContain('红烧肉');
    expect(t).toContain('× 2');
    expect(t).toContain('番茄炒蛋');
  });

  test('opened by WeChat\'s scanner from the QR link, the order is verified at once', async () => {
    mock.route('POST', '/api/v1/canteen/pickups', picked());
    const page = await openVerify({ q: encodeURIComponent('https://x.test/mp/canteen-pickup?token=tok-abcdefgh123') });
    expect(mock.calls('POST', '/api/v1/canteen/pickups')[0].data).toEqual({ token: 'tok-abcdefgh123' });
    expect(text(page)).toContain('核销成功');
  });

  test('someone who is not canteen staff gets the server\'s message', async () => {
    tokens.save(fx.tokens('s', fx.student()));
    mock.route('POST', '/api/v1/canteen/pickups', [403, { code: 403, status: 'Forbidden', error_code: 'canteen.forbidden', message: '仅食堂工作人员可以操作' }]);
    const page = await openVerify({ q: encodeURIComponent('https://x.test/mp/canteen-pickup?token=tok-abcdefgh123') });
    expect(page.querySelector('.message').dom.textContent).toBe('仅食堂工作人员可以操作');
  });

  test('typing the 6-digit code hands it out', async () => {
    mock.route('POST', '/api/v1/canteen/pickups', picked());
    const page = await openVerify();
    await fire(page.querySelector('.code-input'), 'input', { value: '48 2913x' });
    expect(page.instance.data.code).toBe('482913');
    await fire(page.querySelector('.submit'));
    expect(mock.calls('POST', '/api/v1/canteen/pickups')[0].data).toEqual({ code: '482913' });
    expect(text(page)).toContain('核销成功');
    expect(page.instance.data.code).toBe('');
  });

  test('already picked up: the server\'s message, shown on the page', async () => {
    mock.route('POST', '/api/v1/canteen/pickups', [409, { code: 409, status: 'Conflict', error_code: 'canteen.already_picked_up', message: '已于 11:42 取餐' }]);
    const page = await openVerify();
    page.setData({ code: '482913' });
    await fire(page.querySelector('.submit'));
    expect(text(page)).toContain('核销失败');
    expect(page.querySelector('.message').dom.textContent).toBe('已于 11:42 取餐');
    expect(text(page)).not.toContain('核销成功');
  });

  test('an unknown code: the server\'s message', async () => {
    mock.route('POST', '/api/v1/canteen/pickups', [404, { code: 404, status: 'Not Found', error_code: 'canteen.code_not_found', message: '取餐码不存在或已失效' }]);
    const page = await openVerify();
    page.setData({ code: '000000' });
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.message').dom.textContent).toBe('取餐码不存在或已失效');
  });

  test('a short code or another QR is not sent', async () => {
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.success({ result: 'https://example.com/hello' }), 0));
    const page = await openVerify();
    page.setData({ code: '123' });
    await fire(page.querySelector('.submit'));
    expect(text(page)).toContain('请输入 6 位取餐码');
    await fire(page.querySelector('.scan'));
    expect(text(page)).toContain('不是订餐取餐码');
    expect(mock.calls('POST', '/api/v1/canteen/pickups')).toHaveLength(0);
  });

  test('closing the camera does nothing', async () => {
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.fail({ errMsg: 'scanCode:fail cancel' }), 0));
    const page = await openVerify();
    await fire(page.querySelector('.scan'));
    expect(mock.calls('POST', '/api/v1/canteen/pickups')).toHaveLength(0);
    expect(text(page)).not.toContain('核销失败');
  });

  test('备餐单 opens the production page', async () => {
    const page = await openVerify();
    await fire(page.querySelector('.production'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/production/production' });
  });
});

describe('备餐单', () => {
  function sheet(final) {
    return {
      menu_id: 21,
      day: ct.menu().day,
      meal: 'lunch',
      final,
      total_ordered: 12,
      rows: [
        { window_id: 1, window_name: '一号窗口', dish_id: 1, dish_name: '红烧肉', portions: 50, ordered: 8, pending: 1 },
        { window_id: 1, window_name: '一号窗口', dish_id: 2, dish_name: '番茄炒蛋', portions: 30, ordered: 3, pending: 0 },
        { window_id: 2, window_name: '二号窗口', dish_id: 3, dish_name: '清蒸鱼', portions: 10, ordered: 1, pending: 0 },
      ],
    };
  }

  async function openSheet(final) {
    mock.route('GET', '/api/v1/canteen/menus', [200, [ct.menu(), ct.menu({ id: 22, canteen_id: 2, canteen_name: '第二食堂' })]]);
    mock.route('GET', '/api/v1/canteen/menus/21/production', [200, sheet(final)]);
    mock.route('GET', '/api/v1/canteen/menus/22/production', [200, Object.assign(sheet(final), { menu_id: 22, total_ordered: 0, rows: [] })]);
    mock.route('GET', '/api/v1/canteen/menus/21/progress', [200, { menu_id: 21, paid: 7, picked_up: 4, no_show: 0, pending_payment: 1 }]);
    mock.route('GET', '/api/v1/canteen/menus/22/progress', [200, { menu_id: 22, paid: 0, picked_up: 0, no_show: 0, pending_payment: 0 }]);
    const page = render('packageCanteen/pages/production/production');
    await page.instance.onLoad();
    await flush();
    return page;
  }

  test('today\'s lunch (school time): portions per dish per window, the pickup progress', async () => {
    const page = await openSheet(false);
    expect(mock.calls('GET', '/api/v1/canteen/menus')[0].data).toEqual({ date: ct.menu().day, meal: 'lunch' });
    expect(page.querySelectorAll('.window').map(w => w.dom.textContent)).toEqual(['一号窗口（11 份）', '二号窗口（1 份）']);
    const t = text(page);
    expect(t).toContain('共 12 份');
    expect(t).toContain('红烧肉');
    expect(t).toContain('8 份（+1 待支付）/ 备 50');
    expect(page.querySelector('.final').dom.textContent).toBe('订餐中·会变化');
    expect(page.querySelector('.picked').dom.textContent).toBe('4 / 11');
    expect(t).toContain('另有 1 单待支付');
  });

  test('after the cut-off the sheet is final; another canteen\'s menu is a tap away', async () => {
    const page = await openSheet(true);
    expect(page.querySelector('.final').dom.textContent).toBe('已截止·最终');
    await fire(page.querySelectorAll('.canteen')[1]);
    expect(mock.calls('GET', '/api/v1/canteen/menus/22/production')).toHaveLength(1);
    expect(text(page)).toContain('共 0 份');
  });

  test('no menu that meal says so; a forbidden sheet shows the server\'s message', async () => {
    mock.route('GET', '/api/v1/canteen/menus', [200, []]);
    const page = render('packageCanteen/pages/production/production');
    await page.instance.onLoad();
    await flush();
    expect(text(page)).toContain('暂无菜单');

    mock.route('GET', '/api/v1/canteen/menus', [200, [ct.menu()]]);
    mock.route('GET', '/api/v1/canteen/menus/21/production', [403, { code: 403, status: 'Forbidden', error_code: 'canteen.forbidden', message: '仅食堂工作人员可以操作' }]);
    mock.route('GET', '/api/v1/canteen/menus/21/progress', [403, { code: 403, status: 'Forbidden', error_code: 'canteen.forbidden', message: '仅食堂工作人员可以操作' }]);
    await page.instance.load();
    await flush();
    expect(text(page)).toContain('仅食堂工作人员可以操作');
  });
});
