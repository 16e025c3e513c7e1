const labels = require('../utils/meetings');
const routes = require('../utils/routes');

describe('meeting labels and times', () => {
  test('result titles', () => {
    expect(labels.resultTitle({ status: 'ok', late: false, action: 'check_in' })).toBe('签到成功');
    expect(labels.resultTitle({ status: 'ok', late: true, action: 'check_in' })).toBe('签到成功（迟到）');
    expect(labels.resultTitle({ status: 'ok', action: 'sign_out' })).toBe('签退成功');
    expect(labels.resultTitle({ status: 'error', reason: 'not_invited' })).toBe('不在参会名单中');
    expect(labels.resultTitle({ status: 'error', reason: 'something_new' })).toBe('签到失败');
  });

  test('every reason the API lists has a headline', () => {
    ['already_checked_in', 'not_invited', 'too_early', 'closed', 'invalid_token', 'expired_token', 'out_of_range', 'cancelled',
      'not_checked_in', 'already_signed_out'].forEach(reason => expect(labels.REASON_TITLES[reason]).toBeTruthy());
  });

  test('time range in school time', () => {
    const now = '2027-03-01T00:00:00Z';
    expect(labels.timeRange('2027-03-15T06:00:00+00:00', '2027-03-15T07:30:00+00:00', now)).toBe('3月15日 14:00-15:30');
    expect(labels.timeRange('2027-03-15T15:00:00+00:00', '2027-03-15T17:00:00+00:00', now)).toBe('3月15日 23:00-3月16日 01:00');
    expect(labels.clock('2027-03-15T06:07:00+00:00')).toBe('14:07');
  });

  test('pickers are school time', () => {
    expect(labels.isoFromPicker('2027-03-15', '14:00')).toBe('2027-03-15T14:00:00+08:00');
    expect(labels.pickerFromIso('2027-03-15T06:00:00+00:00')).toEqual({ date: '2027-03-15', time: '14:00' });
  });

  test('nonces are 32 hex characters and differ', () => {
    const a = labels.newNonce();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(labels.newNonce()).not.toBe(a);
  });
});

describe('meeting form', () => {
  const valid = () => Object.assign(labels.emptyForm(Date.parse('2027-03-15T02:00:00Z')), { title: '例会', location: '教研室', allStaff: true });

  test('an empty form defaults to today in school time', () => {
    expect(labels.emptyForm(Date.parse('2027-03-14T17:00:00Z')).date).toBe('2027-03-15'); // 01:00 on the 15th in Shanghai
  });

  test('checks', () => {
    expect(labels.validate(valid())).toEqual({});
    expect(labels.validate(Object.assign(valid(), { end: '15:00', start: '16:00' })).time).toBe('结束时间应晚于开始时间');
    expect(labels.validate(Object.assign(valid(), { lateAfter: 'x' })).lateAfter).toBe('应为0到240之间的整数');
    expect(labels.validate(Object.assign(valid(), { geofence: { latitude: 1, longitude: 2 }, radius: 5 })).radius).toBe('签到范围应为20到5000米');
    expect(labels.validate(Object.assign(valid(), { weekly: true, weeks: 0 })).weeks).toBe('重复次数应为1到60');
  });

  test('a meeting round-trips through the form', () => {
    const meeting = {
      title: '例会', description: '', place_id: 14, location: '东校区 › 行政楼 › 3F › 301', starts_at: '2027-03-15T06:00:00+00:00',
      ends_at: '2027-03-15T07:00:00+00:00', opens_before_minutes: 15, late_after_minutes: 10,
      geofence: { latitude: 31.2, longitude: 121.4, radius_m: 300 }, allow_static_code: true, sign_out_enabled: true,
      audience: { all_staff: false, department_ids: [4], user_ids: [9] },
    };
    const payload = labels.toPayload(labels.fromMeeting(meeting));
    expect(payload).toMatchObject({
      place_id: 14, location: '', starts_at: '2027-03-15T14:00:00+08:00', ends_at: '2027-03-15T15:00:00+08:00',
      opens_before_minutes: 15, late_after_minutes: 10, geofence: { latitude: 31.2, longitude: 121.4, radius_m: 300 },
      allow_static_code: true, sign_out_enabled: true, audience: { all_staff: false, department_ids: [4], user_ids: [9] },
    });
    expect(payload.repeat).toBeUndefined();
  });

  test('invitees and settings the form does not show (classes, roles, check-in after the end) survive an edit', () => {
    const meeting = {
      title: '高一(1)班家长会', description: '', place_id: null, location: '高一(1)班教室', starts_at: '2027-03-15T06:00:00+00:00',
      ends_at: '2027-03-15T07:00:00+00:00', opens_before_minutes: 30, late_after_minutes: 5, closes_after_end_minutes: 20,
      geofence: null, allow_static_code: false, sign_out_enabled: false,
      audience: { all_staff: false, department_ids: [], class_ids: [21], class_members: 'parents', roles: ['teacher'], user_ids: [] },
    };
    const form = labels.fromMeeting(meeting);
    expect(labels.validate(form)).toEqual({});
    expect(labels.audienceExtraText(form)).toBe('另含 1 个班级的家长、1 类角色（保存时保留）');
    expect(labels.toPayload(form)).toMatchObject({
      closes_after_end_minutes: 20,
      audience: { all_staff: false, department_ids: [], class_ids: [21], class_members: 'parents', roles: ['teacher'], user_ids: [] },
    });
    // a new meeting sends what it always sent
    const fresh = labels.toPayload(Object.assign(labels.emptyForm(), { title: 'x', location: 'y', allStaff: true }));
    expect(fresh.audience).toEqual({ all_staff: true, department_ids: [], user_ids: [] });
    expect(fresh.closes_after_end_minutes).toBe(0);
  });

  test('a weekly series in words', () => {
    const series = { first_starts_at: '2027-03-08T08:00:00+00:00', duration_minutes: 90, interval_weeks: 1 };
    expect(labels.weeklyText(series)).toBe('每周一 16:00-17:30');
    expect(labels.weeklyText(Object.assign({}, series, { interval_weeks: 2, first_starts_at: '2027-03-13T23:30:00+00:00' }))).toBe('每2周日 07:30-09:00');
  });
});

describe('meeting routes', () => {
  test('pages and scanned targets', () => {
    expect(routes.meetings.detail(7)).toBe('/packageMeetings/pages/detail/detail?id=7');
    expect(routes.meetings.edit()).toBe('/packageMeetings/pages/edit/edit');
    expect(routes.meetings.leaves()).toBe('/packageMeetings/pages/leaves/leaves');
    expect(routes.meetings.checkin({ type: 'meeting', code: 'ABCD2345' })).toBe('/packageMeetings/pages/checkin/checkin?code=ABCD2345');
    expect(routes.meetings.checkin({ type: 'checkin', code: '7.1.i.x', geo: false })).toBe('/packageMeetings/pages/checkin/checkin?t=7.1.i.x');
  });
});
