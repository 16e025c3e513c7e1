// End to end: an admin's notice reaches a teacher's inbox, through the real api/*.js modules and
// services against the live backend (WeChat simulator: login codes `demo-admin`, `demo-teacher`).
// One login per user: the backend allows 5 logins a minute per login code, and the demo codes are
// shared with login.e2e.test.js.
const live = require('./live');

describe('notifications against the live backend', () => {
  let notificationsApi;
  let subscribe;

  beforeAll(() => {
    live.connect('demo-admin');
    notificationsApi = require('../../api/notifications');
    subscribe = require('../../services/subscribe');
  });

  const { logInAs } = live;

  test('an admin sends a notice to teachers; the teacher finds it unread, reads it and subscribes', async () => {
    const title = '停水通知 ' + Date.now();
    await logInAs('admin');

    const sent = await notificationsApi.sendNotice({ title, body: '明天 8:00-12:00 行政楼停水检修', roles: ['teacher'], urgency: 'normal' });
    expect(sent.recipients).toBeGreaterThanOrEqual(1);

    await logInAs('teacher');
    expect(global.wx.login).toHaveBeenCalledTimes(1);
    const inbox = await notificationsApi.list({ page: 1, page_size: 20 });
    const notice = inbox.items.filter(n => n.title === title)[0];

    expect(notice).toMatchObject({ body: '明天 8:00-12:00 行政楼停水检修', read: false, urgency: 'normal', event: 'notifications.notice' });
    expect(inbox.pagination).toMatchObject({ page: 1, first_page: 1 });
    expect(inbox.pagination.total).toBeGreaterThanOrEqual(1);
    const before = (await notificationsApi.unreadCount()).unread;
    expect(before).toBeGreaterThanOrEqual(1);

    await expect(notificationsApi.markRead(notice.id)).resolves.toMatchObject({ id: notice.id, read: true });
    expect((await notificationsApi.unreadCount()).unread).toBe(before - 1);

    // consent to the notice template: wx.requestSubscribeMessage answers accept, the backend takes it
    global.wx.requestSubscribeMessage = jest.fn(o => {
      const res = { errMsg: 'requestSubscribeMessage:ok' };
      o.tmplIds.forEach(id => {
        res[id] = 'accept';
      });
      setTimeout(() => o.success(res), 0);
    });
    const warn = jest.spyOn(console, 'warn');
    const template = (await subscribe.preload()).filter(t => t.event === 'notifications.notice')[0];
    expect(template).toBeTruthy();
    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: [template.template_id], rejected: [] });
    expect(warn).not.toHaveBeenCalled(); // the report was accepted too
    warn.mockRestore();

    // a teacher is not an admin
    await expect(notificationsApi.sendNotice({ title: '越权', body: '越权', roles: ['teacher'] }, { silent: true })).rejects.toMatchObject({
      statusCode: 403,
    });
    expect(global.wx.showToast).not.toHaveBeenCalled();
  }, 60000);
});
