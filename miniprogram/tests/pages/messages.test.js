const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');
const clock = require('../helpers/clock');

const LIST = '/api/v1/notifications';
const UNREAD = '/api/v1/notifications/unread-count';

let mock;

beforeEach(() => {
  clock.set('2026-10-14T12:00:00+08:00'); // relative times ("3小时前") depend on the time of day
  mock = installWx();
  tokens.save(fx.tokens('a'));
  mock.route('GET', UNREAD, [200, { unread: 2 }]);
});

function inbox(items, header) {
  mock.route('GET', LIST, [200, items, header || fx.paginationHeader(1, 1, items.length)]);
}

async function openMessages() {
  const page = render('pages/messages/messages');
  await page.instance.onShow();
  return page;
}

const messages = page => page.querySelectorAll('.message');
const dots = page => page.querySelectorAll('.message__dot');

describe('消息', () => {
  test('lists the messages newest first with an unread dot, relative time and 紧急 label', async () => {
    inbox([
      fx.notification({ id: 3, title: '停电通知', urgency: 'urgent' }),
      fx.notification({ id: 2, title: '报修已派单', read: true, created_at: new Date(Date.now() - 3 * 3600 * 1000).toISOString() }),
      fx.notification({ id: 1, title: '会议提醒' }),
    ]);
    const page = await openMessages();

    expect(page.querySelectorAll('.message__title').map(t => t.dom.textContent)).toEqual(['停电通知', '报修已派单', '会议提醒']);
    expect(messages(page).map(m => Boolean(m.dom.querySelector('[class$="message__dot"]')))).toEqual([true, false, true]);
    expect(page.querySelectorAll('.message__urgent').map(t => t.dom.textContent)).toEqual(['紧急']);
    expect(page.querySelectorAll('.message__time').map(t => t.dom.textContent)).toEqual(['5分钟前', '3小时前', '5分钟前']);
    expect(text(page)).toContain('明天 8:00-12:00 行政楼停水检修');
    expect(text(page)).toContain('2 条未读');
    expect(mock.calls('GET', LIST)[0].data).toEqual({ page: 1, page_size: 20 });
    expect(mock.wx.setTabBarBadge).toHaveBeenCalledWith(expect.objectContaining({ index: 1, text: '2' }));
  });

  test('tapping an unread message with a page link marks it read at once and opens the page', async () => {
    inbox([fx.notification({ id: 5, link: '/packageRepairs/pages/detail/detail?id=7' })]);
    mock.route('POST', '/api/v1/notifications/5/read', [200, fx.notification({ id: 5, read: true })]);
    const page = await openMessages();
    mock.route('GET', UNREAD, [200, { unread: 1 }]);

    await fire(messages(page)[0]);

    expect(dots(page)).toHaveLength(0);
    expect(mock.calls('POST', '/api/v1/notifications/5/read')).toHaveLength(1);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=7' });
    expect(mock.wx.switchTab).not.toHaveBeenCalled();
    // badge: 2 -> 1 at once, then the server's count
    expect(mock.wx.setTabBarBadge.mock.calls.map(c => c[0].text)).toEqual(['2', '1', '1']);
    expect(mock.calls('GET', UNREAD)).toHaveLength(2);
  });

  test('a link to a tab page opens it with switchTab', async () => {
    inbox([fx.notification({ id: 5, link: '/pages/me/me' })]);
    mock.route('POST', '/api/v1/notifications/5/read', [200, fx.notification({ id: 5, read: true })]);
    const page = await openMessages();

    await fire(messages(page)[0]);

    expect(mock.wx.switchTab).toHaveBeenCalledWith({ url: '/pages/me/me' });
    expect(mock.wx.navigateTo).not.toHaveBeenCalled();
  });

  test('a message without a page link shows its text; a read one is not marked again', async () => {
    inbox([fx.notification({ id: 4, read: true, link: null }), fx.notification({ id: 3, link: 'https://example.com/x' })]);
    mock.route('POST', '/api/v1/notifications/3/read', [200, fx.notification({ id: 3, read: true })]);
    const page = await openMessages();

    await fire(messages(page)[0]);
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '明日停水通知', content: '明天 8:00-12:00 行政楼停水检修', showCancel: false }));
    expect(mock.requests.filter(r => r.method === 'POST')).toHaveLength(0);

    await fire(messages(page)[1]);
    expect(mock.wx.showModal).toHaveBeenCalledTimes(2);
    expect(mock.calls('POST', '/api/v1/notifications/3/read')).toHaveLength(1);
    expect(mock.wx.navigateTo).not.toHaveBeenCalled();
  });

  test('when the server refuses to mark it read, the dot comes back', async () => {
    inbox([fx.notification({ id: 5 })]);
    mock.route('POST', '/api/v1/notifications/5/read', { fail: 'request:fail' });
    const page = await openMessages();

    await fire(messages(page)[0]);

    expect(dots(page)).toHaveLength(1);
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('全部已读 marks everything read and clears the badge', async () => {
    inbox([fx.notification({ id: 2 }), fx.notification({ id: 1 })]);
    mock.route('POST', '/api/v1/notifications/read-all', [200, { marked: 2 }]);
    const page = await openMessages();
    expect(dots(page)).toHaveLength(2);

    await fire(page.querySelector('#read-all'));

    expect(mock.calls('POST', '/api/v1/notifications/read-all')).toHaveLength(1);
    expect(dots(page)).toHaveLength(0);
    expect(page.querySelector('#read-all')).toBeUndefined();
    expect(mock.wx.removeTabBarBadge).toHaveBeenCalledWith(expect.objectContaining({ index: 1 }));
    expect(mock.toasts()).toEqual(['已全部标为已读']);
  });

  test('an empty inbox says 暂无消息, without 全部已读', async () => {
    mock.route('GET', UNREAD, [200, { unread: 0 }]);
    inbox([]);
    const page = await openMessages();

    expect(text(page)).toContain('暂无消息');
    expect(page.querySelector('#read-all')).toBeUndefined();
    expect(mock.wx.removeTabBarBadge).toHaveBeenCalled();
  });

  test('reaching the bottom loads the next page, until the last one', async () => {
    mock.route('GET', LIST, req =>
      req.data.page === 1 ? [200, fx.notifications(20, 25), fx.paginationHeader(1, 2, 25)] : [200, fx.notifications(5, 5), fx.paginationHeader(2, 2, 25)]
    );
    const page = await openMessages();
    expect(messages(page)).toHaveLength(20);
    expect(text(page)).not.toContain('没有更多了');

    await page.instance.onReachBottom();
    expect(mock.calls('GET', LIST).map(r => r.data.page)).toEqual([1, 2]);
    expect(messages(page)).toHaveLength(25);
    expect(text(page)).toContain('没有更多了');

    await page.instance.onReachBottom();
    expect(mock.calls('GET', LIST)).toHaveLength(2);
  });

  test('a message that moved to the next page (a new one arrived) is not shown twice', async () => {
    mock.route('GET', LIST, req =>
      req.data.page === 1 ? [200, fx.notifications(20, 25), fx.paginationHeader(1, 2, 25)] : [200, fx.notifications(6, 6), fx.paginationHeader(2, 2, 26)]
    );
    const page = await openMessages();
    await page.instance.onReachBottom();

    expect(messages(page)).toHaveLength(25);
  });

  test('pull-down refresh reloads the first page and the badge, then stops the spinner', async () => {
    inbox([fx.notification({ id: 1 })]);
    const page = await openMessages();
    inbox([fx.notification({ id: 2, title: '新通知' }), fx.notification({ id: 1 })]);

    await page.instance.onPullDownRefresh();

    expect(page.querySelectorAll('.message__title').map(t => t.dom.textContent)).toEqual(['新通知', '明日停水通知']);
    expect(mock.calls('GET', LIST).map(r => r.data.page)).toEqual([1, 1]);
    expect(mock.calls('GET', UNREAD)).toHaveLength(2);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
  });

  test('coming back to the tab reloads only when the unread count moved', async () => {
    inbox([fx.notification({ id: 1 })]);
    const page = await openMessages();

    await page.instance.onShow();
    expect(mock.calls('GET', LIST)).toHaveLength(1);

    mock.route('GET', UNREAD, [200, { unread: 3 }]);
    await page.instance.onShow();
    expect(mock.calls('GET', LIST)).toHaveLength(2);
  });

  test('an unbound user is asked to bind first', async () => {
    mock.route('GET', LIST, [403, envelope(403, 'auth.not_bound', '请先绑定身份')]);
    mock.route('GET', UNREAD, [403, envelope(403, 'auth.not_bound', '请先绑定身份')]);
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    const page = await openMessages();
    console.warn.mockRestore();

    expect(text(page)).toContain('请先绑定身份');
    await fire(page.querySelector('#bind'));
    expect(mock.wx.switchTab).toHaveBeenCalledWith({ url: '/pages/me/me' });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('a list that cannot load offers a retry', async () => {
    mock.route('GET', LIST, { fail: 'request:fail' });
    const page = await openMessages();

    expect(text(page)).toContain('加载失败');
    expect(text(page)).toContain('网络不给力，请检查网络后重试');
    inbox([fx.notification()]);
    await fire(page.querySelector('#retry'));
    expect(messages(page)).toHaveLength(1);
  });
});
