const { installWx, BASE } = require('./helpers/wx');
const fx = require('./helpers/fixtures');
const api = require('../api/notifications');
const tokens = require('../services/tokens');

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a'));
});

function last() {
  const req = mock.requests[mock.requests.length - 1];
  return { method: req.method, path: req.path, data: req.data };
}

describe('api/notifications', () => {
  test('list: GET with the set query parameters, resolves {items, pagination}', async () => {
    const notice = fx.notification();
    mock.route('GET', '/api/v1/notifications', [200, [notice], fx.paginationHeader(1, 3, 41)]);

    const res = await api.list({ unread: true, page: 1, page_size: 20, channel: undefined });

    expect(last()).toEqual({ method: 'GET', path: '/api/v1/notifications', data: { unread: true, page: 1, page_size: 20 } });
    expect(mock.requests[0].url).toBe(BASE + '/api/v1/notifications');
    expect(res.items).toEqual([notice]);
    expect(res.pagination).toMatchObject({ total: 41, total_pages: 3, page: 1, next_page: 2 });
  });

  test('list without X-Pagination gives pagination null', async () => {
    mock.route('GET', '/api/v1/notifications', [200, []]);
    await expect(api.list()).resolves.toEqual({ items: [], pagination: null });
    expect(last().data).toEqual({});
  });

  test.each([
    ['unreadCount', [], 'GET', '/api/v1/notifications/unread-count', undefined, { unread: 3 }],
    ['markRead', [7], 'POST', '/api/v1/notifications/7/read', undefined, fx.notification({ id: 7, read: true })],
    ['markAllRead', [], 'POST', '/api/v1/notifications/read-all', undefined, { marked: 4 }],
    ['templates', [], 'GET', '/api/v1/notifications/templates', undefined, [{ event: 'notifications.notice', template_id: 'T1', title: '后勤通知' }]],
    ['reportSubscriptions', [{ T1: 'accept' }], 'POST', '/api/v1/notifications/subscriptions', { results: { T1: 'accept' } }, { remaining: { T1: 1 } }],
    [
      'sendNotice',
      [{ title: '停水', body: '明天停水', roles: ['teacher'], urgency: 'normal' }],
      'POST',
      '/api/v1/admin/notices',
      { title: '停水', body: '明天停水', roles: ['teacher'], urgency: 'normal' },
      { recipients: 12 },
    ],
    ['retryDelivery', [31], 'POST', '/api/v1/admin/notifications/31/retry', undefined, fx.delivery({ status: 'pending' })],
  ])('%s -> %s %s', async (name, args, method, path, data, body) => {
    mock.route(method, path, [name === 'sendNotice' ? 201 : 200, body]);

    await expect(api[name].apply(null, args)).resolves.toEqual(body);

    expect(last()).toEqual({ method, path, data });
    expect(mock.requests[0].header.Authorization).toBe('Bearer access-a');
  });

  test('listDeliveries: GET /admin/notifications?status=dead, paginated', async () => {
    mock.route('GET', '/api/v1/admin/notifications', [200, [fx.delivery()], fx.paginationHeader(2, 2, 21)]);

    const res = await api.listDeliveries({ status: 'dead', page: 2, page_size: 20 });

    expect(last()).toEqual({ method: 'GET', path: '/api/v1/admin/notifications', data: { status: 'dead', page: 2, page_size: 20 } });
    expect(res.items).toEqual([fx.delivery()]);
    expect(res.pagination.next_page).toBeUndefined();
  });

  test('options such as silent are passed through', async () => {
    mock.route('GET', '/api/v1/notifications/unread-count', [500, {}]);
    await expect(api.unreadCount({ silent: true })).rejects.toMatchObject({ statusCode: 500 });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });
});
