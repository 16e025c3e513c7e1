const { flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const mx = require('../helpers/meetings');

const PAGE = 'packageMeetings/pages/report/report';
const LIST = '/api/v1/meetings/7/attendees';

let mock;

mx.useFrozenDate();

function setup(options) {
  mock = mx.signIn(options);
  mock.route('GET', '/api/v1/meetings/7/attendance', [200, mx.attendance()]);
  mock.route('GET', LIST, req => {
    if (req.data.status === 'absent') return [200, [mx.attendee({ user_id: 12, name: '王老师', status: 'absent', status_label: '缺席', checked_in_at: null, check_in_via: null })]];
    if (req.data.status === 'late') return [200, [mx.attendee({ user_id: 13, name: '赵老师', status: 'late', late: true })]];
    return [200, [mx.attendee()]];
  });
}

async function open() {
  const page = render(PAGE);
  await page.instance.onLoad({ id: '7' });
  await flush();
  return page;
}

describe('签到情况', () => {
  test('figures, tabs with counts, the checked-in list and departments', async () => {
    setup();
    const page = await open();

    expect(page.querySelectorAll('.figure__n').map(n => n.dom.textContent)).toEqual(['30', '12', '2', '1', '17']);
    expect(page.querySelectorAll('.tab').map(t => t.dom.textContent.trim())).toEqual(['已签到 12', '迟到 2', '请假 1', '缺席 17']);
    expect(mock.calls('GET', LIST)[0].data).toEqual({ status: 'checked_in', page_size: 100 });
    expect(text(page)).toContain('李老师');
    expect(text(page)).toContain('实到 10/20 · 迟到 1 · 请假 1 · 缺席 9');
  });

  test('tabs load their list', async () => {
    setup();
    const page = await open();

    await fire(page.querySelectorAll('.tab')[3]);

    expect(mock.calls('GET', LIST)[1].data.status).toBe('absent');
    expect(text(page)).toContain('王老师');
    expect(text(page)).not.toContain('李老师');
  });

  test('a tab with more than 100 people loads the rest at the bottom of the page', async () => {
    setup();
    const absent = [];
    for (let i = 1; i <= 130; i += 1) absent.push(mx.attendee({ user_id: 100 + i, name: '缺席' + i, status: 'absent', checked_in_at: null }));
    mock.route('GET', LIST, fx.paged(absent, 100));
    const page = await open();
    await fire(page.querySelectorAll('.tab')[3]);
    expect(page.querySelectorAll('.attendee')).toHaveLength(100);

    await page.instance.onReachBottom();

    expect(mock.calls('GET', LIST)[2].data).toEqual({ status: 'absent', page: 2, page_size: 100 });
    expect(page.querySelectorAll('.attendee')).toHaveLength(130);
  });

  test('manual check-in of an absentee needs a reason and reloads', async () => {
    setup({ modalText: '手机没电，本人在场' });
    mock.route('POST', '/api/v1/meetings/7/attendees/12/check-in', [200, mx.attendee({ user_id: 12, check_in_via: 'manual' })]);
    const page = await open();
    await fire(page.querySelectorAll('.tab')[3]);

    await fire(page.querySelector('.attendee'));

    const [call] = mock.calls('POST', '/api/v1/meetings/7/attendees/12/check-in');
    expect(call.data).toEqual({ reason: '手机没电，本人在场' });
    expect(mock.toasts()).toContain('已签到');
    expect(mock.calls('GET', '/api/v1/meetings/7/attendance')).toHaveLength(2);
  });

  test('taking a check-in back, and nothing happens without a reason', async () => {
    setup({ modalText: '' });
    const page = await open();
    await fire(page.querySelector('.attendee'));
    expect(mock.calls('POST', '/api/v1/meetings/7/attendees/11/undo-check-in')).toHaveLength(0);
    expect(mock.toasts()).toEqual(['请填写原因']);

    setup({ modalText: '代签' });
    mock.route('POST', '/api/v1/meetings/7/attendees/11/undo-check-in', [200, mx.attendee({ status: 'absent' })]);
    const again = await open();
    await fire(again.querySelector('.attendee'));
    expect(mock.calls('POST', '/api/v1/meetings/7/attendees/11/undo-check-in')[0].data).toEqual({ reason: '代签' });
  });

  test('export downloads the sheet with the token and opens it', async () => {
    setup();
    const page = await open();

    await fire(page.querySelector('#export'));

    const [download] = mock.wx.downloadFile.mock.calls[0];
    expect(download.url).toBe('http://api.test/api/v1/meetings/7/attendance.xlsx');
    expect(download.header).toEqual({ Authorization: 'Bearer access-a' });
    expect(mock.wx.openDocument).toHaveBeenCalledWith({ filePath: 'wxfile://tmp/a.xlsx', fileType: 'xlsx', showMenu: true });
  });

  test('a refused export says why', async () => {
    setup({ downloadStatus: 403 });
    const page = await open();

    await fire(page.querySelector('#export'));

    expect(mock.wx.openDocument).not.toHaveBeenCalled();
    expect(mock.toasts()).toEqual(['没有权限进行此操作']);
  });
});
