const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packageAdmin/pages/console-login/console-login';
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz012-_9';
const BASE = '/api/v1/console/logins/' + TOKEN;
const SCANNED = {
  ip: '10.0.3.17',
  user_agent: 'Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/140.0 Safari/537.36',
  requested_at: '2026-10-14T01:59:30+00:00',
  expires_at: '2026-10-14T02:01:30+00:00',
};

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a', fx.user({ roles: ['admin', 'teacher'] })));
});

async function open(query) {
  const page = render(PAGE);
  await page.instance.onLoad(query);
  return page;
}

describe('登录管理后台', () => {
  test('scanning asks 登录后勤管理后台？ and says where the sign-in comes from', async () => {
    mock.route('POST', BASE + '/scan', [200, SCANNED]);
    const page = await open({ token: TOKEN });

    expect(mock.calls('POST', BASE + '/scan')).toHaveLength(1);
    expect(text(page)).toContain('登录后勤管理后台？');
    expect(page.querySelector('.ask__where').dom.textContent).toBe('Chrome 浏览器 · 10.0.3.17');
    expect(page.querySelector('.confirm').dom.textContent).toBe('确认登录');
    expect(page.querySelector('.cancel').dom.textContent).toBe('取消');
  });

  test('确认登录 confirms once and says to go on at the computer', async () => {
    mock.route('POST', BASE + '/scan', [200, SCANNED]);
    mock.route('POST', BASE + '/confirm', [200, { ok: true }]);
    const page = await open({ token: TOKEN });

    await fire(page.querySelector('.confirm'));
    await page.instance.onConfirm(); // a second tap (the button is gone) asks nothing

    expect(mock.calls('POST', BASE + '/confirm')).toHaveLength(1);
    expect(text(page)).toContain('已登录管理后台');
    expect(text(page)).toContain('请在电脑上继续操作');
    expect(mock.calls('POST', BASE + '/reject')).toHaveLength(0);
  });

  test('取消 rejects the code', async () => {
    mock.route('POST', BASE + '/scan', [200, SCANNED]);
    mock.route('POST', BASE + '/reject', [200, { ok: true }]);
    const page = await open({ token: TOKEN });

    await fire(page.querySelector('.cancel'));

    expect(mock.calls('POST', BASE + '/reject')).toHaveLength(1);
    expect(text(page)).toContain('已取消登录');
    expect(mock.calls('POST', BASE + '/confirm')).toHaveLength(0);
  });

  test('opened by WeChat from the plain QR link (q)', async () => {
    mock.route('POST', BASE + '/scan', [200, SCANNED]);
    const link = 'https://zhhq.example.edu.cn/mp/console-login?token=' + TOKEN;
    const page = await open({ q: encodeURIComponent(link) });

    expect(mock.calls('POST', BASE + '/scan')).toHaveLength(1);
    expect(text(page)).toContain('登录后勤管理后台？');
  });

  test('someone without a console role sees the server reason and no buttons', async () => {
    mock.route('POST', BASE + '/scan', [403, envelope(403, 'console.forbidden', '你没有管理后台的权限，如需开通请联系后勤处')]);
    const page = await open({ token: TOKEN });

    expect(text(page)).toContain('无法登录');
    expect(text(page)).toContain('你没有管理后台的权限，如需开通请联系后勤处');
    expect(page.querySelector('.confirm')).toBeUndefined();
  });

  test('an expired code says so', async () => {
    mock.route('POST', BASE + '/scan', [410, envelope(410, 'console.code_expired', '二维码已过期，请在电脑上刷新二维码后重新扫码')]);
    const page = await open({ token: TOKEN });

    expect(text(page)).toContain('二维码已过期，请在电脑上刷新二维码后重新扫码');
  });

  test('a confirm that comes too late shows the server message', async () => {
    mock.route('POST', BASE + '/scan', [200, SCANNED]);
    mock.route('POST', BASE + '/confirm', [409, envelope(409, 'console.code_used', '该二维码已使用，请在电脑上刷新二维码后重新扫码')]);
    const page = await open({ token: TOKEN });

    await fire(page.querySelector('.confirm'));

    expect(text(page)).toContain('该二维码已使用');
  });

  test('a page opened without a usable token asks nothing of the server', async () => {
    const page = await open({ token: 'short' });

    expect(mock.calls('POST', BASE + '/scan')).toHaveLength(0);
    expect(text(page)).toContain('无法识别该二维码');
  });
});

describe('我的 · 登录管理后台', () => {
  function signedInAs(user) {
    tokens.save(fx.tokens('a', user));
    mock.route('GET', '/api/v1/me', [200, user]);
  }

  async function openMe() {
    const page = render('pages/me/me');
    await page.instance.onShow();
    return page;
  }

  test('an admin scans the console code and lands on the confirm page', async () => {
    signedInAs(fx.user({ roles: ['teacher', 'admin'] }));
    mock.wx.scanCode.mockImplementation(o => o.success({ result: 'https://zhhq.example.edu.cn/mp/console-login?token=' + TOKEN }));
    const page = await openMe();

    await fire(page.querySelector('#console-scan'));

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageAdmin/pages/console-login/console-login?token=' + TOKEN });
  });

  test('another code is not taken for a console sign-in', async () => {
    signedInAs(fx.user({ roles: ['dispatcher'] }));
    mock.wx.scanCode.mockImplementation(o => o.success({ result: 'https://zhhq.example.edu.cn/mp/checkin?t=1.2.a.AbCdEfGhIjKlMnOp' }));
    const page = await openMe();

    await fire(page.querySelector('#console-scan'));

    expect(mock.wx.navigateTo).not.toHaveBeenCalled();
    expect(mock.toasts()).toEqual(['不是管理后台的登录二维码']);
  });

  test('canteen staff have 登录管理后台 too (the console has their pages)', async () => {
    signedInAs(fx.user({ roles: ['canteen'] }));
    const page = await openMe();

    expect(page.querySelector('#console-scan')).toBeDefined();
  });

  test('a teacher has no 登录管理后台', async () => {
    signedInAs(fx.user({ roles: ['teacher'] }));
    const page = await openMe();

    expect(page.querySelector('#console-scan')).toBeUndefined();
  });
});
