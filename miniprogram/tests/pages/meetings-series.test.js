const { flush } = require('../helpers/wx');
const { render, show, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const mx = require('../helpers/meetings');

const SERIES = '/api/v1/meetings/series/3';

let mock;

mx.useFrozenDate(); // 2027-03-15 (a Monday) 10:00 in Shanghai

function occurrence(id, day, overrides) {
  const d = String(day).padStart(2, '0');
  return Object.assign(
    { id, starts_at: '2027-03-' + d + 'T08:00:00+00:00', ends_at: '2027-03-' + d + 'T09:00:00+00:00', status: 'scheduled', detached: false, phase: 'upcoming' },
    overrides
  );
}

// 周例会, every Monday 16:00-17:00 from 8 March to 3 May; this week's meeting is today.
function series(overrides) {
  return Object.assign(
    {
      id: 3,
      title: '周例会',
      status: 'active',
      interval_weeks: 1,
      until: '2027-05-03',
      first_starts_at: '2027-03-08T08:00:00+00:00',
      duration_minutes: 60,
      description: '每周一 16:00，3月8日起',
      template: {
        title: '周例会',
        description: '',
        place_id: null,
        location: '行政楼 3 楼会议室',
        opens_before_minutes: 15,
        late_after_minutes: 5,
        closes_after_end_minutes: 10,
        geofence: null,
        allow_static_code: false,
        sign_out_enabled: false,
        audience: { all_staff: false, department_ids: [4], class_ids: [21], class_members: 'parents', roles: [], user_ids: [] },
      },
      occurrences: [
        occurrence(30, 8, { phase: 'ended' }),
        occurrence(31, 15),
        occurrence(32, 22, { detached: true }),
        occurrence(33, 29, { status: 'cancelled', phase: 'cancelled' }),
      ],
    },
    overrides
  );
}

function setup(options) {
  mock = mx.signIn(options);
  mock.route('GET', SERIES, [200, series()]);
  mock.route('GET', '/api/v1/departments', [200, [{ id: 4, name: '语文教研组' }, { id: 5, name: '数学教研组' }]]);
}

const openSeries = () => show('packageMeetings/pages/series/series', { id: '3' });
const openDetail = () => show('packageMeetings/pages/detail/detail', { id: '7' });

describe('会议详情 of a weekly meeting', () => {
  test('the organiser finds its series; editing and cancelling are for this meeting only', async () => {
    setup();
    mock.route('GET', '/api/v1/meetings/7', [200, mx.organised({ series_id: 3 })]);
    const page = await openDetail();

    expect(page.querySelector('#edit').dom.textContent).toBe('编辑本次会议');
    expect(page.querySelector('#cancel').dom.textContent).toBe('取消本次会议');
    expect(text(page)).toContain('周期会议');
    await fire(page.querySelector('#series'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/series/series?id=3' });
  });

  test('an invitee does not see the series', async () => {
    setup();
    mock.route('GET', '/api/v1/meetings/7', [200, mx.meeting({ series_id: 3 })]);
    const page = await openDetail();

    expect(page.querySelector('#series')).toBeFalsy();
  });
});

describe('周期会议', () => {
  test('the rule in words, until when, and the next meetings, each opening its detail', async () => {
    setup();
    const page = await openSeries();

    expect(mock.wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '周例会' });
    expect(text(page)).toContain('进行中');
    expect(page.querySelector('.weekly').dom.textContent).toBe('每周一 16:00-17:00');
    expect(page.querySelector('.rule').dom.textContent).toBe('每周一 16:00，3月8日起，至 2027年5月3日');
    expect(page.querySelectorAll('.occurrence__when').map(n => n.dom.textContent)).toEqual([
      '3月15日 16:00-17:00',
      '3月22日 16:00-17:00',
      '3月29日 16:00-17:00',
    ]);
    expect(page.querySelectorAll('.occurrence__phase').map(n => n.dom.textContent)).toEqual(['未开始', '未开始 · 已单独修改', '已取消']);

    await fire(page.querySelectorAll('.occurrence')[1]);
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/detail/detail?id=32' });
    await fire(page.querySelector('#edit-series'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/edit/edit?series=3' });
  });

  test('停止 asks first ("停止后，未开始的会议将被取消"), then stops the series', async () => {
    setup();
    mock.route('POST', SERIES + '/cancel', [
      200,
      series({ status: 'cancelled', occurrences: [occurrence(30, 8, { phase: 'ended' }), occurrence(31, 15, { status: 'cancelled', phase: 'cancelled' })] }),
    ]);
    const page = await openSeries();

    await fire(page.querySelector('#stop-series'));

    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '停止周期会议', content: '停止后，未开始的会议将被取消' }));
    expect(mock.calls('POST', SERIES + '/cancel')[0].data).toEqual({ reason: '' });
    expect(mock.toasts()).toEqual(['周期会议已停止']);
    expect(text(page)).toContain('已停止');
    expect(page.querySelector('#stop-series')).toBeFalsy();
    expect(page.querySelector('#edit-series')).toBeFalsy();
  });

  test('not confirmed: nothing is stopped', async () => {
    setup({ confirm: false });
    const page = await openSeries();

    await fire(page.querySelector('#stop-series'));

    expect(mock.calls('POST', SERIES + '/cancel')).toHaveLength(0);
    expect(page.querySelector('#stop-series')).toBeTruthy();
  });

  test('a stopped series offers nothing to change', async () => {
    setup();
    mock.route('GET', SERIES, [200, series({ status: 'cancelled', occurrences: [occurrence(30, 8, { phase: 'ended' })] })]);
    const page = await openSeries();

    expect(text(page)).toContain('已停止');
    expect(text(page)).toContain('周期会议已停止，没有未开始的会议');
    expect(page.querySelector('#edit-series')).toBeFalsy();
  });

  test('someone else\'s series is a 404', async () => {
    setup();
    mock.route('GET', SERIES, [404, { code: 404, error_code: 'meetings.series_not_found', message: '周期会议不存在' }]);
    const page = await openSeries();

    expect(text(page)).toContain('周期会议不存在');
  });
});

describe('编辑周期会议', () => {
  async function openEdit() {
    const page = render('packageMeetings/pages/edit/edit');
    await page.instance.onLoad({ series: '3' });
    await flush();
    return page;
  }

  test('the series fills the form; the weekday is fixed; saving PUTs the series and goes back', async () => {
    setup();
    mock.route('PUT', SERIES, [200, series()]);
    const page = await openEdit();

    expect(mock.wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '编辑周期会议' });
    expect(page.data.form).toMatchObject({ title: '周例会', start: '16:00', end: '17:00', location: '行政楼 3 楼会议室', departmentIds: [4], opensBefore: 15 });
    expect(page.querySelector('.series-weekly').dom.textContent).toBe('每周一 16:00-17:00（星期不能更改）');
    expect(page.querySelector('#weekly')).toBeFalsy();
    expect(page.querySelector('.audience-extra').dom.textContent).toBe('另含 1 个班级的家长（保存时保留）');

    page.instance.set('title', '周例会（调整）');
    page.instance.set('start', '16:30');
    page.instance.set('end', '17:30');
    page.instance.onDepartments({ detail: { value: ['4', '5'] } });
    await page.instance.submit();

    const [put] = mock.calls('PUT', SERIES);
    expect(put.data).toMatchObject({
      title: '周例会（调整）',
      location: '行政楼 3 楼会议室',
      starts_at: '2027-03-08T16:30:00+08:00',
      ends_at: '2027-03-08T17:30:00+08:00',
      opens_before_minutes: 15,
      closes_after_end_minutes: 10,
      audience: { all_staff: false, department_ids: [4, 5], class_ids: [21], class_members: 'parents', user_ids: [] },
    });
    expect(put.data.repeat).toBeUndefined();
    expect(mock.calls('POST', '/api/v1/meetings')).toHaveLength(0);
    expect(mock.toasts()).toEqual(['已保存，未开始的会议已同步']);
    expect(mock.wx.navigateBack).toHaveBeenCalled();
  });

  test('a series in a room shows the room and keeps it', async () => {
    setup();
    const inRoom = series();
    inRoom.template = Object.assign({}, inRoom.template, { place_id: 14, location: '靠窗一侧' });
    mock.route('GET', SERIES, [200, inRoom]);
    mock.route('GET', '/api/v1/places/14', [200, fx.place()]);
    mock.route('PUT', SERIES, [200, inRoom]);
    const page = await openEdit();

    expect(page.data.form).toMatchObject({ placeId: 14, roomCode: 'E-ADM-301', placeName: '东校区 › 行政楼 › 3F › 301', location: '靠窗一侧' });
    expect(text(page)).toContain('东校区 › 行政楼 › 3F › 301');
    await page.instance.submit();
    expect(mock.calls('PUT', SERIES)[0].data).toMatchObject({ place_id: 14, location: '靠窗一侧' });
  });

  test('the server\'s refusal is shown and nothing is left', async () => {
    setup();
    mock.route('PUT', SERIES, [409, { code: 409, error_code: 'meetings.series_cancelled', message: '周期会议已停止' }]);
    const page = await openEdit();

    await page.instance.submit();

    expect(text(page)).toContain('周期会议已停止');
    expect(mock.wx.navigateBack).not.toHaveBeenCalled();
  });
});
