const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

let mock;

beforeEach(() => {
  mock = installWx();
});

function signedInAs(user) {
  tokens.save(fx.tokens('a', user));
  mock.route('GET', '/api/v1/me', [200, user]);
}

function tileTitles(page) {
  return page.querySelectorAll('.tiles >>> .tile__title').map(t => t.dom.textContent);
}

// The tile whose text has `name`.
function tileNamed(page, name) {
  return page.querySelectorAll('.tiles >>> .tile').filter(t => t.dom.textContent.indexOf(name) >= 0)[0];
}

async function openIndex(query) {
  const page = render('pages/index/index');
  page.instance.onLoad(query || {});
  await page.instance.onShow();
  return page;
}

describe('首页', () => {
  test('a worker sees the worker tiles and a greeting', async () => {
    signedInAs(fx.worker());
    const page = await openIndex();

    expect(tileTitles(page)).toEqual(['扫码', '会议签到', '我要报修', '维修任务']);
    expect(text(page)).toContain('你好，王五');
    expect(text(page)).toContain('维修工');
    expect(text(page)).not.toContain('请先绑定身份');
  });

  test('a student sees the student tiles', async () => {
    signedInAs(fx.student());
    const page = await openIndex();

    expect(tileTitles(page)).toEqual(['扫码', '会议签到', '我要报修', '订餐', '快递柜', '缴费']);
    expect(tileTitles(page)).not.toContain('维修任务');
  });

  test('the first launch logs in before loading /me', async () => {
    mock.route('POST', '/api/v1/auth/wechat-login', [200, fx.tokens(1, fx.student())]);
    mock.route('GET', '/api/v1/me', [200, fx.student()]);
    const page = await openIndex();

    expect(mock.requests.map(r => r.path)).toEqual(['/api/v1/auth/wechat-login', '/api/v1/me']);
    expect(tileTitles(page)).toContain('缴费');
  });

  test('a tile whose flow is not built says 即将上线 and does not navigate', async () => {
    signedInAs(fx.user({ roles: ['finance'] }));
    const page = await openIndex();
    const soon = tileNamed(page, '财务');

    expect(soon.dom.textContent).toContain('即将上线');
    await fire(soon);

    expect(mock.toasts()).toEqual(['即将上线']);
    expect(mock.wx.navigateTo).not.toHaveBeenCalled();
  });

  test('a student\'s 订餐 tile opens the menu', async () => {
    signedInAs(fx.student());
    const page = await openIndex();
    const meals = tileNamed(page, '订餐');

    expect(meals.dom.textContent).not.toContain('即将上线');
    await fire(meals);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/menu/menu' });
  });

  test('a student\'s 快递柜 tile opens 我的快递; no 快递投递 or 驿站 for them', async () => {
    signedInAs(fx.student());
    const page = await openIndex();
    const lockers = tileNamed(page, '快递柜');

    expect(lockers.dom.textContent).not.toContain('即将上线');
    expect(tileTitles(page)).not.toContain('快递投递');
    expect(tileTitles(page)).not.toContain('驿站');
    await fire(lockers);

    expect(mock.toasts()).toEqual([]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageLockers/pages/parcels/parcels' });
  });

  test('a courier\'s 快递投递 tile opens the deposit page; a courier has no 驿站', async () => {
    signedInAs(fx.user({ id: 8, roles: ['courier'], person: { kind: 'staff', name: '刘快递', number: 'K0001', department: null, class_name: null } }));
    const page = await openIndex();

    expect(tileTitles(page)).not.toContain('驿站');
    await fire(tileNamed(page, '快递投递'));

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageLockers/pages/deposit/deposit' });
  });

  test('station staff (admin) get 驿站, which opens the station page', async () => {
    signedInAs(fx.user({ roles: ['teacher', 'admin'] }));
    const page = await openIndex();

    await fire(tileNamed(page, '驿站'));

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageLockers/pages/station/station' });
  });

  test('a student\'s 缴费 tile opens their bills', async () => {
    signedInAs(fx.student());
    const page = await openIndex();
    const feesTile = tileNamed(page, '缴费');

    expect(feesTile.dom.textContent).not.toContain('即将上线');
    await fire(feesTile);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageFees/pages/bills/bills' });
  });

  test('a worker\'s 维修任务 tile opens the tasks page', async () => {
    signedInAs(fx.worker());
    const page = await openIndex();
    const tasks = tileNamed(page, '维修任务');

    await fire(tasks);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/tasks/tasks' });
  });

  test('an unbound user sees 请先绑定身份 leading to 我的, and no tiles', async () => {
    signedInAs(fx.unbound());
    const page = await openIndex();

    expect(text(page)).toContain('请先绑定身份');
    expect(tileTitles(page)).toEqual([]);
    await fire(page.querySelector('.bind-card'));
    expect(mock.wx.switchTab).toHaveBeenCalledWith({ url: '/pages/me/me' });
  });

  test('opened from a room QR code: resolves the place and opens the place page', async () => {
    signedInAs(fx.user());
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);

    const page = await openIndex({ scene: encodeURIComponent('p=E-ADM-301') });

    expect(mock.calls('GET', '/api/v1/places/by-code/E-ADM-301')).toHaveLength(1);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packagePlaces/pages/place/place?code=E-ADM-301' });

    // Coming back to the tab does not open the place again.
    await page.instance.onShow();
    expect(mock.wx.navigateTo).toHaveBeenCalledTimes(1);
  });

  test('an unknown room code shows the server message and stays', async () => {
    signedInAs(fx.user());
    mock.route('GET', '/api/v1/places/by-code/NOPE', [404, envelope(404, 'not_found', '场所不存在')]);

    await openIndex({ scene: 'p%3DNOPE' });

    expect(mock.toasts()).toEqual(['场所不存在']);
    expect(mock.wx.navigateTo).not.toHaveBeenCalled();
  });

  test('a QR code opened by an unbound user asks to bind first and calls no place API', async () => {
    signedInAs(fx.unbound());
    await openIndex({ scene: 'p%3DE-ADM-301' });

    expect(mock.toasts()).toEqual(['请先绑定身份']);
    expect(mock.calls('GET', '/api/v1/places/by-code/E-ADM-301')).toHaveLength(0);
  });

  test('the scan tile opens the place of a scanned room code', async () => {
    signedInAs(fx.user());
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
    mock.wx.scanCode.mockImplementation(o => o.success({ path: 'pages/index/index?scene=p%3DE-ADM-301', result: '' }));
    const page = await openIndex();

    await fire(page.querySelectorAll('.tiles >>> .tile')[0]);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packagePlaces/pages/place/place?code=E-ADM-301' });
  });

  test('opened from a meeting door code: goes to the check-in page', async () => {
    signedInAs(fx.user());
    await openIndex({ scene: encodeURIComponent('m=ABCD2345') });

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/checkin/checkin?code=ABCD2345' });
  });

  test('the scan tile opens a rotating check-in code on the check-in page', async () => {
    signedInAs(fx.user());
    const token = '7.120339844.i.AbCdEfGhIjKlMnOp';
    mock.wx.scanCode.mockImplementation(o => o.success({ result: 'https://zhhq.example.edu.cn/mp/checkin?t=' + token + '&g=1' }));
    const page = await openIndex();

    await fire(page.querySelectorAll('.tiles >>> .tile')[0]);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/checkin/checkin?t=' + token + '&g=1' });
  });

  test('the meetings tile opens 会议签到', async () => {
    signedInAs(fx.user());
    const page = await openIndex();
    const tile = tileNamed(page, '会议签到');

    await fire(tile);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/list/list' });
  });

  test('a parent invited to a 家长会 has the meetings tile too', async () => {
    signedInAs(fx.user({ id: 4, roles: ['parent'], person: { kind: 'parent', name: '李家长', number: null, department: null, class_name: null } }));
    const page = await openIndex();
    const tile = tileNamed(page, '会议签到');

    await fire(tile);

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/list/list' });
  });

  test('when /me cannot be loaded and nothing is cached, an error state offers a retry', async () => {
    tokens.save({ access_token: 'access-a', refresh_token: null, expires_in: 900 });
    mock.route('GET', '/api/v1/me', { fail: 'request:fail' });
    const page = await openIndex();

    expect(text(page)).toContain('加载失败');
    expect(text(page)).toContain('网络不给力，请检查网络后重试');
    expect(text(page)).toContain('重试');
  });

  test('pull-down refresh reloads and stops the spinner', async () => {
    signedInAs(fx.worker());
    const page = await openIndex();
    await page.instance.onPullDownRefresh();

    expect(mock.calls('GET', '/api/v1/me')).toHaveLength(2);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
  });
});
