const { flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const mx = require('../helpers/meetings');

const PAGE = 'packageMeetings/pages/edit/edit';

let mock;

mx.useFrozenDate();

beforeEach(() => {
  mock = mx.signIn();
  mock.route('GET', '/api/v1/departments', [200, [{ id: 4, name: '语文教研组' }, { id: 5, name: '数学教研组' }]]);
});

async function open(query) {
  const page = render(PAGE);
  await page.instance.onLoad(query || {});
  await flush();
  return page;
}

function fill(page, values) {
  Object.keys(values).forEach(field => page.instance.set(field, values[field]));
}

describe('发起会议', () => {
  test('an empty form says what is missing and sends nothing', async () => {
    const page = await open();
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-title').dom.textContent).toBe('请输入会议名称');
    expect(page.querySelector('.error-location').dom.textContent).toBe('请选择会议室或填写地点');
    expect(page.querySelector('.error-audience').dom.textContent).toBe('请选择参会人员');
    expect(text(page)).toContain('请检查标红的项目');
    expect(mock.calls('POST', '/api/v1/meetings')).toHaveLength(0);
  });

  test('creates a meeting for a department in school time and opens it', async () => {
    mock.route('POST', '/api/v1/meetings', [201, mx.organised({ id: 21 })]);
    const page = await open();
    fill(page, { title: '语文教研组例会', location: '教研室', date: '2027-03-15', start: '14:00', end: '15:00' });
    page.instance.onDepartments({ detail: { value: ['4'] } });

    await page.instance.submit();

    const [req] = mock.calls('POST', '/api/v1/meetings');
    expect(req.data).toMatchObject({
      title: '语文教研组例会',
      location: '教研室',
      place_id: null,
      starts_at: '2027-03-15T14:00:00+08:00',
      ends_at: '2027-03-15T15:00:00+08:00',
      opens_before_minutes: 30,
      late_after_minutes: 5,
      geofence: null,
      allow_static_code: false,
      audience: { all_staff: false, department_ids: [4], user_ids: [] },
    });
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/detail/detail?id=21' });
  });

  test('a room by its code, a geofence from the map and a door code', async () => {
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
    mock.route('POST', '/api/v1/meetings', [201, mx.organised({ id: 22 })]);
    const page = await open();
    fill(page, { title: '行政例会', allStaff: true });
    await page.instance.onRoomCode({ detail: { value: 'E-ADM-301' } });
    expect(text(page)).toContain('东校区 › 行政楼 › 3F › 301');

    await fire(page.querySelector('#fence'));
    fill(page, { allowStaticCode: true, radius: '150' });
    await page.instance.submit();

    const [req] = mock.calls('POST', '/api/v1/meetings');
    expect(req.data.place_id).toBe(14);
    expect(req.data.geofence).toEqual({ latitude: 31.23, longitude: 121.47, radius_m: 150 });
    expect(req.data.allow_static_code).toBe(true);
    expect(req.data.audience.all_staff).toBe(true);
  });

  test('a door code needs a geofence', async () => {
    const page = await open();
    fill(page, { title: 'x', location: 'y', allStaff: true, allowStaticCode: true });
    await page.instance.submit();

    expect(page.querySelector('.error-geofence').dom.textContent).toBe('固定签到码需要先设置签到范围');
  });

  test('every week: a series, then its first meeting opens', async () => {
    mock.route('POST', '/api/v1/meetings/series', [201, { id: 3, occurrences: [{ id: 31 }, { id: 32 }] }]);
    const page = await open();
    fill(page, { title: '周例会', location: '教研室', allStaff: true, weekly: true, weeks: '6' });
    await page.instance.submit();

    expect(mock.calls('POST', '/api/v1/meetings/series')[0].data.repeat).toEqual({ interval_weeks: 1, count: 6 });
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageMeetings/pages/detail/detail?id=31' });
  });

  test('editing loads the meeting into the form and saves with PUT', async () => {
    mock.route('GET', '/api/v1/meetings/7', [200, mx.organised()]);
    mock.route('PUT', '/api/v1/meetings/7', [200, mx.organised()]);
    const page = await open({ id: '7' });

    expect(page.data.form).toMatchObject({ title: '语文教研组例会', date: '2027-03-15', start: '14:00', end: '15:00', departmentIds: [4] });
    expect(page.data.departments[0].checked).toBe(true);
    expect(page.querySelector('#weekly')).toBeFalsy();
    fill(page, { end: '15:30' });
    await page.instance.submit();

    expect(mock.calls('PUT', '/api/v1/meetings/7')[0].data.ends_at).toBe('2027-03-15T15:30:00+08:00');
  });

  test('editing a meeting in a room shows the room and its code, and keeps the detail added to it', async () => {
    mock.route('GET', '/api/v1/meetings/7', [200, mx.organised({ place_id: 14, location: '东校区 › 行政楼 › 3F › 301（靠窗一侧）' })]);
    mock.route('GET', '/api/v1/places/14', [200, fx.place()]);
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
    mock.route('PUT', '/api/v1/meetings/7', [200, mx.organised()]);
    const page = await open({ id: '7' });

    expect(page.data.form).toMatchObject({ placeId: 14, roomCode: 'E-ADM-301', placeName: '东校区 › 行政楼 › 3F › 301', location: '靠窗一侧' });
    await page.instance.onRoomCode({ detail: { value: 'E-ADM-301' } }); // leaving the room field as it is
    await page.instance.submit();

    expect(mock.calls('PUT', '/api/v1/meetings/7')[0].data).toMatchObject({ place_id: 14, location: '靠窗一侧' });
  });

  test('the server\'s refusal is shown', async () => {
    mock.route('POST', '/api/v1/meetings', [422, { code: 422, error_code: 'meetings.in_the_past', message: '会议结束时间已过', errors: {} }]);
    const page = await open();
    fill(page, { title: '补开', location: '教研室', allStaff: true, date: '2027-03-01' });
    await page.instance.submit();

    expect(text(page)).toContain('会议结束时间已过');
    expect(mock.wx.redirectTo).not.toHaveBeenCalled();
  });
});
