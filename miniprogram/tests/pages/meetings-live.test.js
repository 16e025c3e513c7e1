const { envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const mx = require('../helpers/meetings');

const PAGE = 'packageMeetings/pages/live/live';

let mock;

mx.useFrozenDate();
let page;

beforeEach(() => {
  mock = mx.signIn();
  mock.route('GET', '/api/v1/meetings/7', [200, mx.organised({ sign_out_enabled: true })]);
  mock.route('GET', '/api/v1/meetings/7/qr', req => [200, mx.qr({ purpose: req.data.purpose })]);
  mock.route('GET', '/api/v1/meetings/7/live', [200, {
    meeting_id: 7,
    phase: 'open',
    server_time: mx.NOW,
    counts: mx.counts(),
    recent: [{ user_id: 11, name: '李老师', checked_in_at: '2027-03-15T05:58:00+00:00', late: false }],
  }]);
});

afterEach(() => {
  if (page) page.instance.onUnload();
  page = null;
});

async function open() {
  page = render(PAGE);
  await page.instance.onLoad({ id: '7' });
  await flush();
  return page;
}

describe('签到二维码', () => {
  test('shows the code, the countdown by the server clock, the count and the last people in', async () => {
    await open();

    expect(page.querySelector('.qr__image')).toBeTruthy();
    expect(page.data.image).toBe(mx.qr().image);
    expect(text(page)).toContain('10 秒后刷新'); // changes_at - server_time
    expect(page.querySelector('.count__in').dom.textContent).toBe('12');
    expect(text(page)).toContain('李老师');
    expect(text(page)).toContain('13:58');
    expect(mock.wx.setKeepScreenOn).toHaveBeenCalledWith({ keepScreenOn: true });
    expect(mock.wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '语文教研组例会' });
  });

  test('asks again when the server says so', async () => {
    await open();
    expect(mock.calls('GET', '/api/v1/meetings/7/qr')).toHaveLength(1);

    await page.instance.poll();
    expect(mock.calls('GET', '/api/v1/meetings/7/qr')).toHaveLength(2);
  });

  test('switches to the sign-out code', async () => {
    await open();
    const tabs = page.querySelectorAll('.purpose');
    expect(tabs.map(t => t.dom.textContent)).toEqual(['签到码', '签退码']);

    await fire(tabs[1]);

    const calls = mock.calls('GET', '/api/v1/meetings/7/qr');
    expect(calls[calls.length - 1].data).toEqual({ purpose: 'sign_out' });
    expect(text(page)).toContain('用微信扫一扫签退');
  });

  test('no sign-out switch when sign-out is off', async () => {
    mock.route('GET', '/api/v1/meetings/7', [200, mx.organised()]);
    await open();

    expect(page.querySelectorAll('.purpose')).toHaveLength(0);
  });

  test('copies a projector link', async () => {
    mock.route('POST', '/api/v1/meetings/7/projector-link?purpose=check_in', [201, {
      key: 'k', path: '/api/v1/meetings/projector/k', expires_at: mx.END,
    }]);
    await open();

    await fire(page.querySelector('#projector'));

    expect(mock.wx.setClipboardData).toHaveBeenCalledWith({ data: 'http://api.test/api/v1/meetings/projector/k' });
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '投屏链接已复制' }));
  });

  test('revokes every projector link after asking', async () => {
    const revoked = jest.fn(() => [204, '']);
    mock.route('DELETE', '/api/v1/meetings/7/projector-link', revoked);
    await open();

    await fire(page.querySelector('#revoke-projector'));
    await flush();

    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '撤销投屏链接' }));
    expect(revoked).toHaveBeenCalledTimes(1);
    expect(mock.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '投屏链接已撤销' }));
  });

  test('someone else\'s meeting: the server\'s refusal, and no retry loop', async () => {
    mock.route('GET', '/api/v1/meetings/7/qr', [403, envelope(403, 'meetings.forbidden', '只有会议组织者或管理员可以进行此操作')]);
    await open();

    expect(text(page)).toContain('只有会议组织者或管理员可以进行此操作');
    expect(page.instance.pollTimer).toBeFalsy();
  });

  test('leaving the page stops polling and lets the screen sleep', async () => {
    await open();
    page.instance.onUnload();

    expect(page.instance.pollTimer).toBeNull();
    expect(mock.wx.setKeepScreenOn).toHaveBeenLastCalledWith({ keepScreenOn: false });
    page = null;
  });
});
