// End to end: the real api/request.js and services/session.js against the live backend, with
// wx.request implemented by Node's fetch. The backend runs the WeChat simulator, where the login
// code `demo-teacher` logs in as the seeded demo teacher.
const live = require('./live');

describe('mini-program login against the live backend', () => {
  let session;
  let meApi;
  let tokens;

  beforeEach(() => {
    jest.resetModules();
    session = live.connect('demo-teacher');
    meApi = require('../../api/me');
    tokens = require('../../services/tokens');
  });

  test('wx.login code demo-teacher logs in and /me is a bound teacher', async () => {
    const me = await meApi.getMe();

    expect(me.bound).toBe(true);
    expect(me.roles).toContain('teacher');
    expect(tokens.getAccessToken()).toBeTruthy();
    expect(tokens.getRefreshToken()).toBeTruthy();
    expect(session.getUser().id).toBe(me.id);
    expect(global.wx.showToast).not.toHaveBeenCalled();
  }, 30000);

  test('a rejected access token is renewed through /auth/refresh and the request retried', async () => {
    await session.ensureLogin();
    const firstRefresh = tokens.getRefreshToken();
    global.wx.setStorageSync('session.access_token', 'not-a-valid-token');

    const me = await meApi.getMe();

    expect(me.roles).toContain('teacher');
    expect(tokens.getAccessToken()).not.toBe('not-a-valid-token');
    expect(tokens.getRefreshToken()).not.toBe(firstRefresh);
    expect(global.wx.login).toHaveBeenCalledTimes(1); // renewed by refresh, not by a new wx.login
  }, 30000);

  test('logout revokes the refresh token', async () => {
    await session.ensureLogin();
    const refreshToken = tokens.getRefreshToken();
    await session.logout();
    expect(tokens.getAccessToken()).toBeNull();

    const authApi = require('../../api/auth');
    await expect(authApi.refresh(refreshToken, { silent: true })).rejects.toMatchObject({
      statusCode: 401,
      error_code: 'auth.invalid_refresh_token',
    });
  }, 30000);
});
