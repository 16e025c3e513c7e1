const { installWx, envelope, BASE } = require('./helpers/wx');
const fx = require('./helpers/fixtures');
const { request, list, download, pagination, ApiError } = require('../api/request');
const tokens = require('../services/tokens');
require('../services/session'); // registers the re-login used on 401

const LOGIN = '/api/v1/auth/wechat-login';
const REFRESH = '/api/v1/auth/refresh';

let mock;

beforeEach(() => {
  mock = installWx();
  mock.route('POST', LOGIN, req => [200, fx.tokens(req.data.code)]);
});

function signIn(access, refresh) {
  tokens.save({ access_token: access, refresh_token: refresh || null, expires_in: 900, user: fx.user() });
}

// /api/v1/me answers 401 to every token but the ones in `valid`.
function meAccepting(valid) {
  mock.route('GET', '/api/v1/me', req =>
    valid.indexOf(req.header.Authorization) >= 0 ? [200, fx.user()] : [401, envelope(401, 'auth.invalid_token', '登录已过期，请重新登录')]
  );
}

describe('request()', () => {
  test('a 2xx response resolves with the body and sends the token and a request id', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/me', [200, fx.user()]);

    await expect(request({ url: '/api/v1/me' })).resolves.toEqual(fx.user());

    const [sent] = mock.requests;
    expect(sent.url).toBe(BASE + '/api/v1/me');
    expect(sent.header.Authorization).toBe('Bearer access-a');
    expect(sent.header['X-Request-ID']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sent.timeout).toBeGreaterThan(0);
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('success is the status code, not a `code` field in the body', async () => {
    signIn('access-a');
    mock.route('POST', '/api/v1/things', [201, { code: 500, id: 7 }]);
    await expect(request({ url: '/api/v1/things', method: 'post', data: { a: 1 } })).resolves.toEqual({ code: 500, id: 7 });
    expect(mock.requests[0].method).toBe('POST');
  });

  test('204 resolves with null', async () => {
    signIn('access-a');
    mock.route('DELETE', '/api/v1/things/1', [204, '']);
    await expect(request({ url: '/api/v1/things/1', method: 'DELETE' })).resolves.toBeNull();
  });

  test('auth: false sends no Authorization header and needs no session', async () => {
    mock.route('GET', '/api/v1/health', [200, { status: 'ok' }]);
    await request({ url: '/api/v1/health', auth: false });
    expect(mock.requests[0].header.Authorization).toBeUndefined();
    expect(mock.wx.login).not.toHaveBeenCalled();
  });

  test('with no session yet, it logs in first and then sends the request', async () => {
    mock.route('GET', '/api/v1/me', [200, fx.user()]);
    await request({ url: '/api/v1/me' });
    expect(mock.wx.login).toHaveBeenCalledTimes(1);
    expect(mock.calls('POST', LOGIN)[0].data).toEqual({ code: 'wx-code-1' });
    expect(mock.calls('GET', '/api/v1/me')[0].header.Authorization).toBe('Bearer access-wx-code-1');
  });

  test('401 -> one re-login through wx.login, then the retry succeeds', async () => {
    signIn('access-old');
    meAccepting(['Bearer access-wx-code-1']);

    await expect(request({ url: '/api/v1/me' })).resolves.toEqual(fx.user());

    expect(mock.wx.login).toHaveBeenCalledTimes(1);
    expect(mock.calls('POST', LOGIN)).toHaveLength(1);
    expect(mock.calls('GET', '/api/v1/me').map(r => r.header.Authorization)).toEqual(['Bearer access-old', 'Bearer access-wx-code-1']);
    expect(tokens.getAccessToken()).toBe('access-wx-code-1');
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('401 with a refresh token -> the token is refreshed, no wx.login', async () => {
    signIn('access-old', 'refresh-old');
    mock.route('POST', REFRESH, req => [200, fx.tokens('rotated')]);
    meAccepting(['Bearer access-rotated']);

    await request({ url: '/api/v1/me' });

    expect(mock.calls('POST', REFRESH)[0].data).toEqual({ refresh_token: 'refresh-old' });
    expect(mock.wx.login).not.toHaveBeenCalled();
    expect(tokens.getRefreshToken()).toBe('refresh-rotated');
  });

  test('a refused refresh token falls back to wx.login', async () => {
    signIn('access-old', 'refresh-old');
    mock.route('POST', REFRESH, [401, envelope(401, 'auth.invalid_refresh_token', '登录已过期，请重新登录')]);
    meAccepting(['Bearer access-wx-code-1']);

    await request({ url: '/api/v1/me' });

    expect(mock.calls('POST', REFRESH)).toHaveLength(1);
    expect(mock.wx.login).toHaveBeenCalledTimes(1);
  });

  test('two concurrent 401s share ONE login (single flight), then both retries succeed', async () => {
    signIn('access-old');
    meAccepting(['Bearer access-wx-code-1']);

    const results = await Promise.all([request({ url: '/api/v1/me' }), request({ url: '/api/v1/me' })]);

    expect(results).toEqual([fx.user(), fx.user()]);
    expect(mock.wx.login).toHaveBeenCalledTimes(1);
    expect(mock.calls('POST', LOGIN)).toHaveLength(1);
    expect(mock.calls('GET', '/api/v1/me')).toHaveLength(4);
  });

  test('a 401 arriving after another request already renewed the session just retries', async () => {
    signIn('access-old');
    meAccepting(['Bearer access-wx-code-1']);
    await request({ url: '/api/v1/me' });
    // A request that was sent with the old token and only now gets its 401:
    mock.route('GET', '/api/v1/slow', req => (req.header.Authorization === 'Bearer access-old' ? [401, {}] : [200, { ok: true }]));
    tokens.save({ access_token: 'access-old', refresh_token: null, expires_in: 900 });
    const slow = request({ url: '/api/v1/slow' });
    tokens.save({ access_token: 'access-wx-code-1', refresh_token: null, expires_in: 900 });

    await expect(slow).resolves.toEqual({ ok: true });
    expect(mock.wx.login).toHaveBeenCalledTimes(1);
  });

  test('a second 401 after the re-login rejects and clears the session', async () => {
    signIn('access-old');
    meAccepting([]);

    const err = await request({ url: '/api/v1/me' }).catch(e => e);

    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ statusCode: 401, error_code: 'auth.invalid_token', message: '登录已过期，请重新登录' });
    expect(mock.wx.login).toHaveBeenCalledTimes(1);
    expect(mock.calls('GET', '/api/v1/me')).toHaveLength(2);
    expect(tokens.getAccessToken()).toBeNull();
    expect(tokens.getUser()).toBeNull();
    expect(mock.toasts()).toEqual(['登录已过期，请重新登录']);
  });

  test('a failed re-login rejects the original request with the login error, toasted once', async () => {
    signIn('access-old');
    meAccepting([]);
    mock.route('POST', LOGIN, [502, envelope(502, 'wechat.unavailable', '微信服务暂时不可用，请稍后重试')]);

    const err = await request({ url: '/api/v1/me' }).catch(e => e);

    expect(err).toMatchObject({ statusCode: 502, error_code: 'wechat.unavailable' });
    expect(mock.toasts()).toEqual(['微信服务暂时不可用，请稍后重试']);
    expect(tokens.getAccessToken()).toBeNull();
  });

  test('4xx -> Chinese toast with the envelope message, rejection carries the envelope', async () => {
    signIn('access-a');
    const body = envelope(409, 'repairs.invalid_transition', '工单当前状态不允许此操作', { status: ['x'] });
    mock.route('POST', '/api/v1/repairs/1/accept', [409, body]);

    const err = await request({ url: '/api/v1/repairs/1/accept', method: 'POST' }).catch(e => e);

    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ statusCode: 409, error_code: 'repairs.invalid_transition', message: '工单当前状态不允许此操作', errors: { status: ['x'] } });
    expect(mock.wx.showToast).toHaveBeenCalledTimes(1);
    expect(mock.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '工单当前状态不允许此操作', icon: 'none' }));
  });

  test('an envelope without a message falls back to the local table by error_code, then by status', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/a', [404, { code: 404, status: 'Not Found', error_code: 'users.roster_not_found' }]);
    mock.route('GET', '/api/v1/b', [403, { code: 403, status: 'Forbidden', error_code: 'something.new' }]);
    mock.route('GET', '/api/v1/c', [503, '<html>bad gateway</html>']);

    const a = await request({ url: '/api/v1/a' }).catch(e => e);
    const b = await request({ url: '/api/v1/b' }).catch(e => e);
    const c = await request({ url: '/api/v1/c' }).catch(e => e);

    expect(a.message).toBe('未在花名册中找到此人，请核对工号/学号和姓名');
    expect(b.message).toBe('没有权限进行此操作');
    expect(c).toMatchObject({ statusCode: 503, error_code: 'http_503', message: '服务器开小差了，请稍后重试' });
    expect(mock.toasts()).toEqual([a.message, b.message, c.message]);
  });

  test('network failure -> toast and error_code network_error', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/me', { fail: 'request:fail net::ERR_INTERNET_DISCONNECTED' });

    const err = await request({ url: '/api/v1/me' }).catch(e => e);

    expect(err).toMatchObject({ statusCode: 0, error_code: 'network_error', message: '网络不给力，请检查网络后重试' });
    expect(mock.toasts()).toEqual(['网络不给力，请检查网络后重试']);
  });

  test('a timeout is passed to wx.request and reported as network_timeout', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/me', { fail: 'request:fail timeout' });

    const err = await request({ url: '/api/v1/me', timeout: 3000 }).catch(e => e);

    expect(mock.requests[0].timeout).toBe(3000);
    expect(err).toMatchObject({ error_code: 'network_timeout', message: '请求超时，请稍后重试' });
  });

  test('silent suppresses the toast but still rejects', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/me', [404, envelope(404, 'not_found', '请求的内容不存在')]);
    mock.route('GET', '/api/v1/x', { fail: 'request:fail' });

    await expect(request({ url: '/api/v1/me', silent: true })).rejects.toMatchObject({ error_code: 'not_found' });
    await expect(request({ url: '/api/v1/x', silent: true })).rejects.toMatchObject({ error_code: 'network_error' });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('an access token past its expiry is renewed before the request, without a 401 round trip', async () => {
    tokens.save({ access_token: 'access-old', refresh_token: 'refresh-old', expires_in: 1 });
    mock.route('POST', REFRESH, [200, fx.tokens('rotated')]);
    meAccepting(['Bearer access-rotated']);

    await request({ url: '/api/v1/me' });

    expect(mock.calls('GET', '/api/v1/me')).toHaveLength(1);
    expect(mock.calls('POST', REFRESH)).toHaveLength(1);
  });

  test('withHeaders resolves {data, header}; without it callers still get the body', async () => {
    signIn('access-a');
    const header = { 'X-Pagination': '{"total": 21, "page": 1, "next_page": 2}' };
    mock.route('GET', '/api/v1/things', [200, [{ id: 1 }], header]);

    await expect(request({ url: '/api/v1/things', withHeaders: true })).resolves.toEqual({ data: [{ id: 1 }], header });
    await expect(request({ url: '/api/v1/things' })).resolves.toEqual([{ id: 1 }]);
  });

  test('withHeaders on 204 gives data null; errors still reject the same way', async () => {
    signIn('access-a');
    mock.route('POST', '/api/v1/things/1/done', [204, '']);
    mock.route('GET', '/api/v1/gone', [404, envelope(404, 'not_found', '没有了')]);

    await expect(request({ url: '/api/v1/things/1/done', method: 'POST', withHeaders: true })).resolves.toEqual({ data: null, header: {} });
    await expect(request({ url: '/api/v1/gone', withHeaders: true })).rejects.toBeInstanceOf(ApiError);
    expect(mock.toasts()).toEqual(['没有了']);
  });

  test('pagination() reads X-Pagination whatever the header case', () => {
    expect(pagination({ 'X-Pagination': '{"total": 3, "page": 1}' })).toEqual({ total: 3, page: 1 });
    expect(pagination({ 'x-pagination': '{"total": 0}' })).toEqual({ total: 0 });
    expect(pagination({})).toBeNull();
    expect(pagination(undefined)).toBeNull();
    expect(pagination({ 'X-Pagination': 'not json' })).toBeNull();
  });
});

describe('list()', () => {
  test('GETs the set query parameters and resolves {items, pagination} from X-Pagination', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/things', [200, [{ id: 1 }, { id: 2 }], fx.paginationHeader(1, 2, 21)]);

    const res = await list('/api/v1/things', { page: 1, page_size: 20, status: '', mine: null, kind: undefined, tab: 'new' });

    expect(mock.calls('GET', '/api/v1/things')[0].data).toEqual({ page: 1, page_size: 20, tab: 'new' });
    expect(res).toEqual({ items: [{ id: 1 }, { id: 2 }], pagination: expect.objectContaining({ total: 21, page: 1, next_page: 2 }) });
  });

  test('no header: pagination null; an empty body: no items; options (silent) are passed on', async () => {
    signIn('access-a');
    mock.route('GET', '/api/v1/things', [200, '']);
    await expect(list('/api/v1/things')).resolves.toEqual({ items: [], pagination: null });

    mock.route('GET', '/api/v1/things', [500, envelope(500, 'internal_error', '')]);
    await expect(list('/api/v1/things', {}, { silent: true })).rejects.toBeInstanceOf(ApiError);
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });
});

describe('download()', () => {
  function downloads(answers) {
    mock.wx.downloadFile = jest.fn(o => {
      const answer = answers.shift();
      setTimeout(() => (answer.fail ? o.fail({ errMsg: answer.fail }) : o.success(Object.assign({ tempFilePath: 'wxfile://tmp/f' }, answer))), 0);
    });
  }

  test('sends the access token, with the query, and resolves the temp file', async () => {
    signIn('access-a');
    downloads([{ statusCode: 200, tempFilePath: 'wxfile://tmp/code.png' }]);

    await expect(download('/api/v1/files/1', { source: 'qr', empty: '' })).resolves.toBe('wxfile://tmp/code.png');

    const [sent] = mock.wx.downloadFile.mock.calls[0];
    expect(sent.url).toBe(BASE + '/api/v1/files/1?source=qr');
    expect(sent.header).toEqual({ Authorization: 'Bearer access-a' });
  });

  test('a 401 renews the session once and downloads again with the new token', async () => {
    signIn('access-old', 'refresh-old');
    mock.route('POST', REFRESH, [200, fx.tokens('new')]);
    downloads([{ statusCode: 401 }, { statusCode: 200 }]);

    await expect(download('/api/v1/files/1')).resolves.toBe('wxfile://tmp/f');

    expect(mock.wx.downloadFile.mock.calls.map(c => c[0].header.Authorization)).toEqual(['Bearer access-old', 'Bearer access-new']);
  });

  test('a refusal rejects with the envelope read from the saved body, else the text by status; never a toast', async () => {
    signIn('access-a');
    mock.wx.getFileSystemManager = () => ({ readFileSync: () => JSON.stringify(envelope(409, 'things.locked', '已锁定')) });
    downloads([{ statusCode: 409 }]);
    await expect(download('/api/v1/files/1')).rejects.toMatchObject({ statusCode: 409, error_code: 'things.locked', message: '已锁定' });

    delete mock.wx.getFileSystemManager;
    downloads([{ statusCode: 403 }, { fail: 'downloadFile:fail timeout' }]);
    await expect(download('/api/v1/files/1')).rejects.toMatchObject({ statusCode: 403, message: '没有权限进行此操作' });
    await expect(download('/api/v1/files/1')).rejects.toMatchObject({ error_code: 'network_timeout' });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });
});
