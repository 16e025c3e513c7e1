const { envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const mx = require('../helpers/meetings');

const PAGE = 'packageMeetings/pages/checkin/checkin';
const URL = '/api/v1/meetings/check-ins';
const TOKEN = '7.120339844.i.AbCdEfGhIjKlMnOp';

let mock;

mx.useFrozenDate();

function setup(options) {
  mock = mx.signIn(options);
}

async function open(query) {
  const page = render(PAGE);
  await page.instance.onLoad(query);
  await flush();
  return page;
}

describe('签到结果', () => {
  beforeEach(() => setup());

  test('a rotating code checks in once and says so', async () => {
    mock.route('POST', URL, [200, mx.answer()]);
    const page = await open({ t: TOKEN });

    const [req] = mock.calls('POST', URL);
    expect(req.data.token).toBe(TOKEN);
    expect(req.data.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(req.data.location).toBeUndefined(); // the meeting has no geofence (no g=1): no location asked
    expect(mock.wx.getLocation).not.toHaveBeenCalled();
    expect(req.data.device).toEqual({ brand: 'Apple', model: 'iPhone 15', system: 'iOS 17.4', platform: 'ios', version: '8.0.47', SDKVersion: '3.3.4' });
    expect(page.querySelector('.result__title').dom.textContent).toBe('签到成功');
    expect(text(page)).toContain('签到时间 13:58');
    expect(text(page)).toContain('语文教研组例会');
    expect(text(page)).toContain('3月15日 14:00-15:00');
    expect(page.querySelector('.result--ok')).toBeTruthy();
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('late: still a success, in amber, with (迟到)', async () => {
    mock.route('POST', URL, [200, mx.answer({ late: true, message: '签到成功（迟到）' })]);
    const page = await open({ t: TOKEN });

    expect(page.querySelector('.result__title').dom.textContent).toBe('签到成功（迟到）');
    expect(page.querySelector('.result--warn')).toBeTruthy();
  });

  test.each([
    ['not_invited', '不在参会名单中', '你不在本次会议的参会名单中，如有疑问请联系会议组织者', false],
    ['too_early', '签到还没开始', '签到尚未开始，请在签到时间内再扫码（3月15日 13:30 开始）', true],
    ['closed', '签到已结束', '签到已结束', false],
    ['expired_token', '签到码已过期', '签到码已过期，请扫描屏幕上最新的二维码', true],
    ['cancelled', '会议已取消', '会议已取消', false],
  ])('refusal %s: headline, the server\'s reason, and whether to scan again', async (reason, title, message, rescannable) => {
    mock.route('POST', URL, [200, mx.answer({ status: 'error', reason, message, checked_in_at: null })]);
    const page = await open({ t: TOKEN });

    expect(page.querySelector('.result__title').dom.textContent).toBe(title);
    expect(page.querySelector('.result__message').dom.textContent).toBe(message);
    expect(Boolean(page.querySelector('#rescan'))).toBe(rescannable);
    expect(page.querySelector('.result--error')).toBeTruthy();
  });

  test('already checked in is information, not an error', async () => {
    mock.route('POST', URL, [200, mx.answer({ status: 'error', reason: 'already_checked_in', message: '你已于 3月15日 13:58 签到，无需重复扫码' })]);
    const page = await open({ t: TOKEN });

    expect(page.querySelector('.result--info')).toBeTruthy();
    expect(text(page)).toContain('你已签到');
  });

  test('a geofenced meeting (g=1): the location goes with the scan', async () => {
    mock.route('POST', URL, [200, mx.answer()]);
    await open({ t: TOKEN, g: '1' });

    expect(mock.wx.getLocation).toHaveBeenCalledWith(expect.objectContaining({ type: 'gcj02' }));
    expect(mock.calls('POST', URL)[0].data.location).toEqual({ latitude: 31.2305, longitude: 121.4737, accuracy: 12 });
  });

  test('location refused: out of range, with a way to the settings', async () => {
    setup({ location: null });
    mock.route('POST', URL, [200, mx.answer({ status: 'error', reason: 'out_of_range', message: '本会议需要核对位置，请允许小程序获取你的位置后重新扫码' })]);
    const page = await open({ t: TOKEN, g: '1' });

    expect(mock.calls('POST', URL)[0].data.location).toBeUndefined();
    expect(text(page)).toContain('不在会场范围内');
    await fire(page.querySelector('#settings'));
    expect(mock.wx.openSetting).toHaveBeenCalled();
  });

  test('a printed door code (scene m=<code>) always sends the location', async () => {
    mock.route('POST', URL, [200, mx.answer()]);
    await open({ scene: encodeURIComponent('m=ABCD2345') });

    const [req] = mock.calls('POST', URL);
    expect(req.data.code).toBe('ABCD2345');
    expect(req.data.token).toBeUndefined();
    expect(req.data.location.latitude).toBe(31.2305);
  });

  test('the plain QR link opened by WeChat (q=…) works too', async () => {
    mock.route('POST', URL, [200, mx.answer()]);
    await open({ q: encodeURIComponent('https://zhhq.example.edu.cn/mp/checkin?t=' + TOKEN) });

    expect(mock.calls('POST', URL)[0].data.token).toBe(TOKEN);
  });

  test('a network failure offers a retry with the same nonce', async () => {
    mock.route('POST', URL, { fail: 'request:fail timeout' });
    const page = await open({ t: TOKEN });

    expect(text(page)).toContain('签到未完成');
    expect(text(page)).toContain('请求超时，请稍后重试');
    mock.route('POST', URL, [200, mx.answer({ replayed: true })]);
    await fire(page.querySelector('#retry'));

    const [first, second] = mock.calls('POST', URL);
    expect(second.data.nonce).toBe(first.data.nonce);
    expect(page.querySelector('.result__title').dom.textContent).toBe('签到成功');
  });

  test('scanning again after a refusal uses a new code and a new nonce', async () => {
    mock.route('POST', URL, [200, mx.answer({ status: 'error', reason: 'expired_token', message: '签到码已过期' })]);
    const page = await open({ t: TOKEN });
    const fresh = '7.120339845.i.ZyXwVuTsRqPoNmLk';
    mock.wx.scanCode.mockImplementation(o => o.success({ result: 'https://zhhq.example.edu.cn/mp/checkin?t=' + fresh }));
    mock.route('POST', URL, [200, mx.answer()]);

    await fire(page.querySelector('#rescan'));

    const [first, second] = mock.calls('POST', URL);
    expect(second.data.token).toBe(fresh);
    expect(second.data.nonce).not.toBe(first.data.nonce);
    expect(page.querySelector('.result__title').dom.textContent).toBe('签到成功');
  });

  test('sign-out codes say 签退成功', async () => {
    mock.route('POST', URL, [200, mx.answer({ action: 'sign_out', message: '签退成功' })]);
    const page = await open({ t: '7.120339844.o.AbCdEfGhIjKlMnOp' });

    expect(page.querySelector('.result__title').dom.textContent).toBe('签退成功');
    expect(mock.wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '签退' });
  });

  test('an unbound user is sent to bind', async () => {
    mock.route('POST', URL, [403, envelope(403, 'auth.not_bound', '请先绑定身份')]);
    const page = await open({ t: TOKEN });

    await fire(page.querySelector('#bind'));
    expect(mock.wx.switchTab).toHaveBeenCalledWith({ url: '/pages/me/me' });
  });

  test('no usable code: says so and calls nothing', async () => {
    const page = await open({ scene: encodeURIComponent('p=E-ADM-301') });

    expect(text(page)).toContain('无法识别的签到码');
    expect(mock.requests).toHaveLength(0);
  });

  test('查看会议 opens the meeting', async () => {
    mock.route('POST', URL, [200, mx.answer()]);
    const page = await open({ t: TOKEN });

    await fire(page.querySelector('#meeting'));
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/detail/detail?id=7' });
  });
});
