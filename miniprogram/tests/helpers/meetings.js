// Meetings test helpers: API-shaped fixtures and the wx APIs the meeting pages use beyond the
// shared mock (location, clipboard, downloads, keep-screen-on …), added to an installed mock.
// A meeting page's test file starts with
//
//   mx.useFrozenDate();                    // Date.now() at NOW for every test of the file
//   beforeEach(() => { mock = mx.signIn(); });
const clock = require('./clock');
const fx = require('./fixtures');
const { installWx } = require('./wx');
const tokens = require('../../services/tokens');

const NOW = '2027-03-15T02:00:00+00:00'; // 10:00 in Shanghai
const START = '2027-03-15T06:00:00+00:00'; // 14:00
const END = '2027-03-15T07:00:00+00:00';

function counts(overrides) {
  return Object.assign({ invited: 30, checked_in: 12, on_time: 10, late: 2, excused: 1, absent: 17, signed_out: 0 }, overrides);
}

function meeting(overrides) {
  return Object.assign(
    {
      id: 7,
      code: 'ABCD2345',
      title: '语文教研组例会',
      description: '期中教研安排',
      place_id: null,
      location: '教学楼A 2F 教研室',
      starts_at: START,
      ends_at: END,
      opens_before_minutes: 30,
      late_after_minutes: 5,
      closes_after_end_minutes: 0,
      checkin_opens_at: '2027-03-15T05:30:00+00:00',
      late_at: '2027-03-15T06:05:00+00:00',
      checkin_closes_at: END,
      geofence: null,
      allow_static_code: false,
      sign_out_enabled: false,
      status: 'scheduled',
      phase: 'open',
      series_id: null,
      organiser: { id: 1, name: '张老师' },
      can_manage: false,
      audience: null,
      counts: null,
      mine: { invited: true, status: 'absent', checked_in_at: null, late: false, signed_out_at: null, excused: false, leave: null },
    },
    overrides
  );
}

function organised(overrides) {
  return meeting(
    Object.assign(
      {
        can_manage: true,
        counts: counts(),
        audience: { all_staff: false, department_ids: [4], class_ids: [], class_members: 'students', roles: [], user_ids: [] },
      },
      overrides
    )
  );
}

function answer(overrides) {
  return Object.assign(
    {
      status: 'ok',
      reason: null,
      message: '签到成功',
      action: 'check_in',
      late: false,
      meeting: { id: 7, title: '语文教研组例会', location: '教学楼A 2F 教研室', starts_at: START, ends_at: END },
      checked_in_at: '2027-03-15T05:58:00+00:00',
      signed_out_at: null,
      scanned_at: '2027-03-15T05:58:00+00:00',
      replayed: false,
    },
    overrides
  );
}

function qr(overrides) {
  return Object.assign(
    {
      meeting_id: 7,
      title: '语文教研组例会',
      purpose: 'check_in',
      token: '7.120339844.i.AbCdEfGhIjKlMnOp',
      link: 'https://zhhq.example.edu.cn/mp/checkin?t=7.120339844.i.AbCdEfGhIjKlMnOp',
      image: 'data:image/png;base64,iVBORw0KGgo=',
      slot: 120339844,
      slot_seconds: 15,
      changes_at: '2027-03-15T05:58:15+00:00',
      valid_until: '2027-03-15T05:58:30+00:00',
      refresh_in_ms: 5000,
      server_time: '2027-03-15T05:58:05+00:00',
      phase: 'open',
      status: 'scheduled',
      counts: counts(),
    },
    overrides
  );
}

function attendee(overrides) {
  return Object.assign(
    {
      user_id: 11,
      name: '李老师',
      number: 'T0011',
      department_id: 4,
      department: '语文教研组',
      status: 'on_time',
      status_label: '已签到',
      checked_in_at: '2027-03-15T05:58:00+00:00',
      late: false,
      check_in_via: 'rotating',
      signed_out_at: null,
      excused: false,
      leave: null,
    },
    overrides
  );
}

function attendance(overrides) {
  return Object.assign(
    {
      meeting_id: 7,
      title: '语文教研组例会',
      phase: 'in_progress',
      pending_leaves: 1,
      by_department: [
        { department_id: 4, department: '语文教研组', invited: 20, checked_in: 10, on_time: 9, late: 1, excused: 1, absent: 9, signed_out: 0 },
        { department_id: 5, department: '数学教研组', invited: 10, checked_in: 2, on_time: 1, late: 1, excused: 0, absent: 8, signed_out: 0 },
      ],
    },
    counts(),
    overrides
  );
}

function leave(overrides) {
  return Object.assign(
    {
      id: 3,
      status: 'pending',
      status_label: '待审批',
      reason: '外出培训',
      decision_note: null,
      meeting_id: 7,
      meeting_title: '语文教研组例会',
      meeting_starts_at: START,
      user_id: 12,
      name: '王老师',
      created_at: NOW,
      decided_at: null,
    },
    overrides
  );
}

// The wx APIs meeting pages use that the shared mock does not have.
function extendWx(mock, options) {
  const opts = options || {};
  const wx = mock.wx;
  wx.getLocation = jest.fn(o =>
    setTimeout(() => (opts.location === null ? o.fail({ errMsg: 'getLocation:fail auth deny' }) : o.success(opts.location || { latitude: 31.2305, longitude: 121.4737, accuracy: 12 })), 0)
  );
  wx.getSystemInfoSync = jest.fn(() => ({ brand: 'Apple', model: 'iPhone 15', system: 'iOS 17.4', platform: 'ios', version: '8.0.47', SDKVersion: '3.3.4', pixelRatio: 3 }));
  wx.setKeepScreenOn = jest.fn();
  wx.setClipboardData = jest.fn();
  wx.showLoading = jest.fn();
  wx.hideLoading = jest.fn();
  wx.redirectTo = jest.fn();
  wx.navigateBack = jest.fn();
  wx.openSetting = jest.fn();
  wx.openDocument = jest.fn();
  wx.chooseLocation = jest.fn(o => setTimeout(() => o.success({ latitude: 31.23, longitude: 121.47, name: '行政楼', address: '' }), 0));
  wx.downloadFile = jest.fn(o => setTimeout(() => o.success({ statusCode: opts.downloadStatus || 200, tempFilePath: 'wxfile://tmp/a.xlsx' }), 0));
  // An editable modal answers with the text in opts.modalText (confirm unless opts.confirm === false).
  wx.showModal = jest.fn(o =>
    setTimeout(() => {
      if (o.success) o.success({ confirm: opts.confirm !== false, cancel: opts.confirm === false, content: opts.modalText || '' });
    }, 0)
  );
  return mock;
}

// Date.now() at NOW (10:00 in Shanghai on the fixtures' day), frozen, for every test of the file;
// timers stay real, so the fake network of helpers/wx keeps answering.
function freezeDate() {
  clock.pin(NOW, { tick: false });
}

// Date.now() frozen at NOW for every test of this file (freezeDate before all, real timers after).
function useFrozenDate() {
  beforeAll(() => freezeDate());
  afterAll(() => jest.useRealTimers());
}

// A fresh wx mock with the meeting pages' APIs (extendWx with `options`), `user` signed in (default
// fx.user(), a teacher). Returns the mock.
function signIn(options, user) {
  const mock = extendWx(installWx(), options);
  tokens.save(fx.tokens('a', user));
  return mock;
}

module.exports = {
  NOW,
  START,
  END,
  counts,
  meeting,
  organised,
  answer,
  qr,
  attendee,
  attendance,
  leave,
  extendWx,
  freezeDate,
  useFrozenDate,
  signIn,
};
