// End to end: a teacher organises a meeting, shows its rotating QR code and checks in with it, through
// the real api/ modules against the live backend (simulator logins, real database, real HMAC tokens).
const live = require('./live');

describe('meeting check-in against the live backend', () => {
  let meetingsApi;
  let meApi;
  let scene;

  beforeEach(() => {
    jest.resetModules();
    live.connect('demo-teacher');
    meetingsApi = require('../../api/meetings');
    meApi = require('../../api/me');
    scene = require('../../utils/scene');
  });

  test('create, show the code, scan it, scan again, see the figures', async () => {
    const me = await meApi.getMe();
    const start = new Date(Date.now() + 10 * 60 * 1000);
    const end = new Date(start.getTime() + 60 * 60 * 1000);
    const meeting = await meetingsApi.create({
      title: '端到端测试会议',
      location: '教研室',
      starts_at: start.toISOString(),
      ends_at: end.toISOString(),
      audience: { user_ids: [me.id] },
    });
    expect(meeting.can_manage).toBe(true);
    expect(meeting.phase).toBe('open');

    const qr = await meetingsApi.qr(meeting.id);
    expect(qr.image.indexOf('data:image/png;base64,')).toBe(0);
    const target = scene.parseScanResult({ result: qr.link });
    expect(target).toEqual({ type: 'checkin', code: qr.token, geo: false });

    const first = await meetingsApi.checkIn({ token: target.code, nonce: 'e2e' + Date.now().toString(16) + 'aa' });
    expect(first).toMatchObject({ status: 'ok', reason: null, late: false, message: '签到成功' });
    const second = await meetingsApi.checkIn({ token: target.code, nonce: 'e2e' + Date.now().toString(16) + 'bb' });
    expect(second).toMatchObject({ status: 'error', reason: 'already_checked_in' });

    const figures = await meetingsApi.attendance(meeting.id);
    expect(figures).toMatchObject({ invited: 1, checked_in: 1, late: 0, absent: 0 });
    const mine = await meetingsApi.get(meeting.id);
    expect(mine.mine.checked_in_at).toBeTruthy();
  }, 30000);
});
