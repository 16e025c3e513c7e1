const { installWx, envelope } = require('./helpers/wx');
const fx = require('./helpers/fixtures');
const badge = require('../services/badge');
const tokens = require('../services/tokens');

const UNREAD = '/api/v1/notifications/unread-count';

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a'));
  jest.spyOn(console, 'warn').mockImplementation(() => {});
});

afterEach(() => console.warn.mockRestore());

describe('tab badge', () => {
  test.each([
    [1, '1'],
    [42, '42'],
    [99, '99'],
    [100, '99+'],
    [2500, '99+'],
  ])('%i unread shows "%s" on the 消息 tab', (n, text) => {
    badge.show(n);
    expect(mock.wx.setTabBarBadge).toHaveBeenCalledWith(expect.objectContaining({ index: 1, text }));
    expect(mock.wx.removeTabBarBadge).not.toHaveBeenCalled();
  });

  test('0 unread removes the badge', () => {
    badge.show(0);
    expect(mock.wx.removeTabBarBadge).toHaveBeenCalledWith(expect.objectContaining({ index: 1 }));
    expect(mock.wx.setTabBarBadge).not.toHaveBeenCalled();
  });

  test('refresh() loads the unread count and shows it', async () => {
    mock.route('GET', UNREAD, [200, { unread: 7 }]);

    await expect(badge.refresh()).resolves.toBe(7);

    expect(mock.calls('GET', UNREAD)).toHaveLength(1);
    expect(mock.wx.setTabBarBadge).toHaveBeenCalledWith(expect.objectContaining({ index: 1, text: '7' }));
  });

  test('refresh() with nothing unread removes the badge', async () => {
    mock.route('GET', UNREAD, [200, { unread: 0 }]);
    await badge.refresh();
    expect(mock.wx.removeTabBarBadge).toHaveBeenCalledTimes(1);
  });

  test('a failed refresh leaves the badge alone, without a toast, and resolves null', async () => {
    mock.route('GET', UNREAD, [500, envelope(502, 'server_error', '服务器开小差了')]);

    await expect(badge.refresh()).resolves.toBeNull();

    expect(mock.wx.setTabBarBadge).not.toHaveBeenCalled();
    expect(mock.wx.removeTabBarBadge).not.toHaveBeenCalled();
    expect(mock.wx.showToast).not.toHaveBeenCalled();
    expect(console.warn).toHaveBeenCalled();
  });

  test('an unbound user has no inbox: no request, no badge', async () => {
    tokens.save(fx.tokens('a', fx.unbound()));

    await expect(badge.refresh()).resolves.toBe(0);

    expect(mock.requests).toHaveLength(0);
    expect(mock.wx.removeTabBarBadge).toHaveBeenCalledTimes(1);
  });
});
