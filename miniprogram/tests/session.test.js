const { installWx, envelope } = require('./helpers/wx');
const fx = require('./helpers/fixtures');
const session = require('../services/session');
const tokens = require('../services/tokens');

const LOGIN = '/api/v1/auth/wechat-login';
const REFRESH = '/api/v1/auth/refresh';
const LOGOUT = '/api/v1/auth/logout';

let mock;

beforeEach(() => {
  mock = installWx();
});

describe('session', () => {
  test('login() posts the wx.login code and stores tokens and user', async () => {
    mock.route('POST', LOGIN, req => [200, fx.tokens(1, fx.user({ nickname: req.data.code }))]);

    const user = await session.login();

    expect(mock.calls('POST', LOGIN)[0].data).toEqual({ code: 'wx-code-1' });
    expect(mock.calls('POST', LOGIN)[0].header.Authorization).toBeUndefined();
    expect(user.nickname).toBe('wx-code-1');
    expect(mock.storage.get('session.access_token')).toBe('access-1');
    expect(mock.storage.get('session.refresh_token')).toBe('refresh-1');
    expect(session.getUser()).toEqual(user);
    expect(session.isLoggedIn()).toBe(true);
  });

  test('login() rejects with a Chinese message when wx.login fails, without calling the API', async () => {
    mock.wx.login.mockImplementation(o => o.fail({ errMsg: 'login:fail' }));
    await expect(session.login()).rejects.toMatchObject({ error_code: 'wechat.login_failed', message: '微信登录失败，请稍后重试' });
    expect(mock.requests).toHaveLength(0);
  });

  test('login errors are silent here; the caller decides what to show', async () => {
    mock.route('POST', LOGIN, [401, envelope(401, 'auth.invalid_code', '登录凭证无效，请重试')]);
    await expect(session.login()).rejects.toMatchObject({ statusCode: 401, error_code: 'auth.invalid_code' });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('refresh() rotates both tokens', async () => {
    tokens.save(fx.tokens('old'));
    mock.route('POST', REFRESH, [200, fx.tokens('new')]);

    await session.refresh();

    expect(mock.calls('POST', REFRESH)[0].data).toEqual({ refresh_token: 'refresh-old' });
    expect(tokens.getAccessToken()).toBe('access-new');
    expect(tokens.getRefreshToken()).toBe('refresh-new');
  });

  test('reauthenticate() does not fall back to wx.login on a network failure', async () => {
    tokens.save(fx.tokens('old'));
    mock.route('POST', REFRESH, { fail: 'request:fail' });
    await expect(session.reauthenticate()).rejects.toMatchObject({ error_code: 'network_error' });
    expect(mock.wx.login).not.toHaveBeenCalled();
  });

  test('logout() revokes the refresh token on the server and clears storage', async () => {
    tokens.save(fx.tokens('a'));
    mock.route('POST', LOGOUT, [204, '']);

    await session.logout();

    expect(mock.calls('POST', LOGOUT)[0].data).toEqual({ refresh_token: 'refresh-a' });
    expect(mock.storage.size).toBe(0);
    expect(session.getUser()).toBeNull();
  });

  test('logout() clears the local session even when the server cannot be reached', async () => {
    tokens.save(fx.tokens('a'));
    mock.route('POST', LOGOUT, { fail: 'request:fail' });
    await session.logout();
    expect(mock.storage.size).toBe(0);
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('ensureLogin() reuses a live session and shares one login between callers', async () => {
    mock.route('POST', LOGIN, [200, fx.tokens(1)]);

    const [a, b] = await Promise.all([session.ensureLogin(), session.ensureLogin()]);
    const c = await session.ensureLogin();

    expect(a).toEqual(fx.user());
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(mock.wx.login).toHaveBeenCalledTimes(1);
  });

  test('fetchUser() caches GET /api/v1/me', async () => {
    tokens.save(fx.tokens('a', fx.unbound()));
    mock.route('GET', '/api/v1/me', [200, fx.user()]);

    await session.fetchUser();

    expect(session.getUser()).toEqual(fx.user());
  });
});
