const { installWx, flush } = require('../helpers/wx');
const { show, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const mx = require('../helpers/meetings');
const tokens = require('../../services/tokens');

const PAGE = 'packageMeetings/pages/detail/detail';

let mock;

mx.useFrozenDate();

function setup(meeting, options) {
  mock = mx.signIn(options);
  mock.route('GET', '/api/v1/meetings/7', [200, meeting]);
}

const open = () => show(PAGE, { id: '7' });

describe('会议详情', () => {
  test('an invitee: time, place, organiser, status; scan and ask for leave; no management', async () => {
    setup(mx.meeting());
    const page = await open();

    expect(text(page)).toContain('签到中');
    expect(page.querySelector('.when').dom.textContent).toBe('3月15日 14:00-15:00');
    expect(text(page)).toContain('张老师');
    expect(page.querySelector('.mine__status').dom.textContent).toBe('未签到');
    expect(page.querySelector('.manage')).toBeFalsy();

    mock.wx.scanCode.mockImplementation(o => o.success({ result: 'https://zhhq.example.edu.cn/mp/checkin?t=7.120339844.i.AbCdEfGhIjKlMnOp&g=1' }));
    await fire(page.querySelector('#scan'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/checkin/checkin?t=7.120339844.i.AbCdEfGhIjKlMnOp&g=1' });

    await fire(page.querySelector('#ask-leave'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/leave/leave?id=7' });
  });

  test('a student invited to a 班会: scan and ask for leave, nothing to manage', async () => {
    setup(mx.meeting({ id: 7, title: '高一(1)班班会', can_manage: false }));
    tokens.save(fx.tokens('a', fx.student()));
    const page = await open();

    expect(text(page)).toContain('高一(1)班班会');
    expect(page.querySelector('#scan')).toBeTruthy();
    expect(page.querySelector('#ask-leave')).toBeTruthy();
    expect(page.querySelector('.manage')).toBeFalsy();
  });

  test('checked in: the time, no scan, no leave', async () => {
    setup(mx.meeting({ mine: { invited: true, status: 'late', checked_in_at: '2027-03-15T06:07:00+00:00', late: true, signed_out_at: null, excused: false, leave: null } }));
    const page = await open();

    expect(page.querySelector('.mine__status').dom.textContent).toBe('迟到签到 14:07');
    expect(page.querySelector('#scan')).toBeFalsy();
    expect(page.querySelector('#ask-leave')).toBeFalsy();
  });

  test('a pending leave can be withdrawn', async () => {
    const leave = { id: 3, status: 'pending', status_label: '待审批', reason: '外出培训', decision_note: null };
    setup(mx.meeting({ mine: Object.assign({}, mx.meeting().mine, { leave }) }));
    mock.route('POST', '/api/v1/meetings/leave-requests/3/withdraw', [200, mx.leave({ status: 'withdrawn' })]);
    const page = await open();

    expect(text(page)).toContain('请假待审批');
    expect(text(page)).toContain('请假：外出培训（待审批）');
    await fire(page.querySelector('#withdraw'));
    expect(mock.calls('POST', '/api/v1/meetings/leave-requests/3/withdraw')).toHaveLength(1);
    expect(mock.calls('GET', '/api/v1/meetings/7')).toHaveLength(2);
  });

  test('the organiser gets the code, the report, approvals, editing and cancelling', async () => {
    setup(mx.organised({ mine: null }), { modalText: '与区教研活动冲突' });
    mock.route('POST', '/api/v1/meetings/7/cancel', [200, mx.organised({ status: 'cancelled', phase: 'cancelled' })]);
    const page = await open();

    expect(text(page)).toContain('已签到 12/30 · 迟到 2 · 请假 1');
    await fire(page.querySelector('#live'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/live/live?id=7' });
    await fire(page.querySelector('#report'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/report/report?id=7' });
    await fire(page.querySelector('#leaves'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/leaves/leaves?meeting=7' });
    await fire(page.querySelector('#edit'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/edit/edit?id=7' });

    await fire(page.querySelector('#cancel'));
    expect(mock.calls('POST', '/api/v1/meetings/7/cancel')[0].data).toEqual({ reason: '与区教研活动冲突' });
  });

  test('an ended meeting: no code, no editing', async () => {
    setup(mx.organised({ phase: 'ended' }));
    const page = await open();

    expect(text(page)).toContain('已结束');
    expect(page.querySelector('#live')).toBeFalsy();
    expect(page.querySelector('#edit')).toBeFalsy();
    expect(page.querySelector('#report')).toBeTruthy();
  });

  test('a meeting I may not see', async () => {
    mock = mx.extendWx(installWx());
    tokens.save(fx.tokens('a'));
    mock.route('GET', '/api/v1/meetings/7', [404, { code: 404, error_code: 'meetings.not_found', message: '会议不存在' }]);
    const page = await open();

    expect(text(page)).toContain('会议不存在');
  });
});

describe('门口签到码', () => {
  const fenced = overrides =>
    mx.organised(Object.assign({ mine: null, geofence: { latitude: 31.23, longitude: 121.47, radius_m: 150 }, allow_static_code: true }, overrides));

  test('downloads the printable code with the token, previews it, and saves it to the album', async () => {
    setup(fenced());
    mock.wx.downloadFile.mockImplementation(o => setTimeout(() => o.success({ statusCode: 200, tempFilePath: 'wxfile://tmp/door.png' }), 0));
    mock.wx.saveImageToPhotosAlbum = jest.fn(o => setTimeout(() => o.success({ errMsg: 'saveImageToPhotosAlbum:ok' }), 0));
    const page = await open();

    await fire(page.querySelector('#door-code'));

    const [download] = mock.wx.downloadFile.mock.calls[0];
    expect(download.url).toBe('http://api.test/api/v1/meetings/7/static-code?source=wechat');
    expect(download.header).toEqual({ Authorization: 'Bearer access-a' });
    expect(mock.wx.previewImage).toHaveBeenCalledWith({ current: 'wxfile://tmp/door.png', urls: ['wxfile://tmp/door.png'] });
    expect(page.querySelector('.door-code__image')).toBeTruthy();
    expect(page.instance.data.doorCode).toBe('wxfile://tmp/door.png');
    expect(mock.wx.hideLoading).toHaveBeenCalled();

    await fire(page.querySelector('#door-code-save'));
    expect(mock.wx.saveImageToPhotosAlbum).toHaveBeenCalledWith(expect.objectContaining({ filePath: 'wxfile://tmp/door.png' }));
    expect(mock.toasts()).toEqual(['已保存到相册']);

    await fire(page.querySelector('#door-code-preview'));
    expect(mock.wx.previewImage).toHaveBeenCalledTimes(2);
  });

  test('no geofence on the server (409 meetings.static_code_disabled): the Chinese reason, nothing shown', async () => {
    setup(fenced(), { downloadStatus: 409 });
    const page = await open();

    await fire(page.querySelector('#door-code'));

    expect(mock.toasts()).toEqual(['本会议未开启固定签到码（需要先设置签到范围）']);
    expect(mock.wx.previewImage).not.toHaveBeenCalled();
    expect(page.querySelector('.door-code')).toBeFalsy();
  });

  test('the server\'s own message when the saved error body can be read', async () => {
    setup(fenced(), { downloadStatus: 409 });
    mock.wx.getFileSystemManager = () => ({
      readFileSync: () => JSON.stringify({ code: 409, error_code: 'meetings.static_code_disabled', message: '本会议未开启固定签到码（需要先设置签到范围）' }),
    });
    const page = await open();

    await fire(page.querySelector('#door-code'));

    expect(mock.toasts()).toEqual(['本会议未开启固定签到码（需要先设置签到范围）']);
  });

  test('a meeting without the door code explains what it needs, and 去设置 opens the form', async () => {
    setup(mx.organised({ mine: null }));
    const page = await open();

    await fire(page.querySelector('#door-code'));

    expect(mock.wx.downloadFile).not.toHaveBeenCalled();
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '门口签到码', confirmText: '去设置' }));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/edit/edit?id=7' });
  });

  test('saving refused by the album permission leads to the settings', async () => {
    setup(fenced());
    mock.wx.saveImageToPhotosAlbum = jest.fn(o => setTimeout(() => o.fail({ errMsg: 'saveImageToPhotosAlbum:fail auth deny' }), 0));
    const page = await open();
    await fire(page.querySelector('#door-code'));

    await fire(page.querySelector('#door-code-save'));

    expect(mock.wx.showModal).toHaveBeenLastCalledWith(expect.objectContaining({ title: '无法保存到相册', confirmText: '去设置' }));
    await flush();
    expect(mock.wx.openSetting).toHaveBeenCalled();
  });

  test('an ended meeting has no door code to print', async () => {
    setup(fenced({ phase: 'ended' }));
    const page = await open();

    expect(page.querySelector('#door-code')).toBeFalsy();
  });
});

