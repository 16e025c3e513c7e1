// Meeting labels, the scan result's wording, time ranges, and the create/edit form
// (checks, payload, and the reverse: a meeting or a weekly series back into the form).
const time = require('./time');

const PHASE_LABELS = {
  upcoming: '未开始',
  open: '签到中',
  in_progress: '进行中',
  ended: '已结束',
  cancelled: '已取消',
};

const ATTENDANCE_LABELS = {
  on_time: '已签到',
  late: '迟到',
  excused: '请假',
  absent: '未签到',
};

const LEAVE_LABELS = {
  pending: '待审批',
  approved: '已批准',
  rejected: '已驳回',
  withdrawn: '已撤回',
};

// Tabs of the attendance report: [status filter, label, counts key]
const REPORT_TABS = [
  { status: 'checked_in', label: '已签到', key: 'checked_in' },
  { status: 'late', label: '迟到', key: 'late' },
  { status: 'excused', label: '请假', key: 'excused' },
  { status: 'absent', label: '缺席', key: 'absent' },
];

// The scan answer's reason -> the result page's headline (the server's `message` says why).
const REASON_TITLES = {
  already_checked_in: '你已签到',
  not_invited: '不在参会名单中',
  too_early: '签到还没开始',
  closed: '签到已结束',
  invalid_token: '无法识别的签到码',
  expired_token: '签到码已过期',
  out_of_range: '不在会场范围内',
  cancelled: '会议已取消',
  not_checked_in: '还没有签到',
  already_signed_out: '你已签退',
};

// A refusal the person can fix by scanning again (the code on the screen has changed meanwhile).
const RESCANNABLE = ['expired_token', 'invalid_token', 'out_of_range', 'too_early'];

function resultTitle(answer) {
  if (!answer) return '';
  if (answer.status === 'ok') {
    if (answer.action === 'sign_out') return '签退成功';
    return answer.late ? '签到成功（迟到）' : '签到成功';
  }
  return REASON_TITLES[answer.reason] || '签到失败';
}

function pad(n) {
  return (n < 10 ? '0' : '') + n;
}

// "3月15日 14:00-15:00" (the end's date is spelled out when it differs)
function timeRange(startsAt, endsAt, now) {
  const start = time.parseISO(startsAt);
  const end = time.parseISO(endsAt);
  if (isNaN(start) || isNaN(end)) return '';
  const s = time.schoolParts(start);
  const e = time.schoolParts(end);
  const sameDay = s.year === e.year && s.month === e.month && s.day === e.day;
  const endText = sameDay ? pad(e.hour) + ':' + pad(e.minute) : time.formatDateTime(endsAt, now);
  return time.formatDateTime(startsAt, now) + '-' + endText;
}

// "14:05"
function clock(value) {
  const t = time.parseISO(value);
  if (isNaN(t)) return '';
  const p = time.schoolParts(t);
  return pad(p.hour) + ':' + pad(p.minute);
}

// School-time date "2027-03-15" and time "14:00" -> "2027-03-15T14:00:00+08:00"
function isoFromPicker(date, hhmm) {
  return date + 'T' + hhmm + ':00+08:00';
}

function pickerFromIso(value) {
  const t = time.parseISO(value);
  if (isNaN(t)) return { date: '', time: '' };
  const p = time.schoolParts(t);
  return { date: p.year + '-' + pad(p.month) + '-' + pad(p.day), time: pad(p.hour) + ':' + pad(p.minute) };
}

function emptyForm(now) {
  const today = pickerFromIso(new Date(now === undefined ? Date.now() : now).toISOString()).date;
  return {
    title: '',
    description: '',
    location: '',
    roomCode: '',
    placeId: null,
    placeName: '',
    date: today,
    start: '16:00',
    end: '17:00',
    opensBefore: 30,
    lateAfter: 5,
    allStaff: false,
    departmentIds: [],
    userIds: [],
    // kept as they are when editing (set in the admin console, not on this form): 班会 / 家长会
    // classes, whom of them, invited roles; and how long check-in stays open after the end
    classIds: [],
    classMembers: 'students',
    audienceRoles: [],
    closesAfter: 0,
    geofence: null,
    radius: 200,
    allowStaticCode: false,
    signOut: false,
    weekly: false,
    weeks: 8,
  };
}

function isInt(value, min, max) {
  const n = Number(value);
  return String(value).trim() !== '' && Number.isInteger(n) && n >= min && n <= max;
}

// form -> {field: Chinese message} (empty when valid)
function validate(form) {
  const errors = {};
  if (!String(form.title || '').trim()) errors.title = '请输入会议名称';
  else if (String(form.title).trim().length > 60) errors.title = '会议名称最多60个字';
  if (!form.placeId && !String(form.location || '').trim()) errors.location = '请选择会议室或填写地点';
  if (!form.date) errors.date = '请选择日期';
  if (!form.start || !form.end) errors.time = '请选择开始和结束时间';
  else if (form.end <= form.start) errors.time = '结束时间应晚于开始时间';
  if (!isInt(form.opensBefore, 0, 240)) errors.opensBefore = '应为0到240之间的整数';
  if (!isInt(form.lateAfter, 0, 240)) errors.lateAfter = '应为0到240之间的整数';
  const invited = ['departmentIds', 'userIds', 'classIds', 'audienceRoles'].some(key => (form[key] || []).length);
  if (!form.allStaff && !invited) errors.audience = '请选择参会人员';
  if (form.allowStaticCode && !form.geofence) errors.geofence = '固定签到码需要先设置签到范围';
  if (form.geofence && !isInt(form.radius, 20, 5000)) errors.radius = '签到范围应为20到5000米';
  if (form.weekly && !isInt(form.weeks, 1, 60)) errors.weeks = '重复次数应为1到60';
  return errors;
}

// form -> the body of POST /meetings (or /meetings/series when weekly)
function toPayload(form) {
  const payload = {
    title: String(form.title).trim(),
    description: String(form.description || '').trim(),
    place_id: form.placeId || null,
    location: String(form.location || '').trim(),
    starts_at: isoFromPicker(form.date, form.start),
    ends_at: isoFromPicker(form.date, form.end),
    opens_before_minutes: Number(form.opensBefore),
    late_after_minutes: Number(form.lateAfter),
    closes_after_end_minutes: Number(form.closesAfter || 0),
    geofence: form.geofence
      ? { latitude: form.geofence.latitude, longitude: form.geofence.longitude, radius_m: Number(form.radius) }
      : null,
    allow_static_code: Boolean(form.geofence && form.allowStaticCode),
    sign_out_enabled: Boolean(form.signOut),
    audience: { all_staff: Boolean(form.allStaff), department_ids: form.departmentIds || [], user_ids: form.userIds || [] },
  };
  if ((form.classIds || []).length) {
    payload.audience.class_ids = form.classIds;
    payload.audience.class_members = form.classMembers || 'students';
  }
  if ((form.audienceRoles || []).length) payload.audience.roles = form.audienceRoles;
  if (form.weekly) payload.repeat = { interval_weeks: 1, count: Number(form.weeks) };
  return payload;
}

// a meeting from the API -> the form (for editing)
function fromMeeting(m) {
  const start = pickerFromIso(m.starts_at);
  const end = pickerFromIso(m.ends_at);
  const audience = m.audience || {};
  const form = emptyForm();
  return Object.assign(form, {
    title: m.title,
    description: m.description || '',
    location: m.place_id ? '' : m.location,
    placeId: m.place_id || null,
    placeName: m.place_id ? m.location : '',
    date: start.date,
    start: start.time,
    end: end.time,
    opensBefore: m.opens_before_minutes,
    lateAfter: m.late_after_minutes,
    allStaff: Boolean(audience.all_staff),
    departmentIds: audience.department_ids || [],
    userIds: audience.user_ids || [],
    classIds: audience.class_ids || [],
    classMembers: audience.class_members || 'students',
    audienceRoles: audience.roles || [],
    closesAfter: m.closes_after_end_minutes || 0,
    geofence: m.geofence ? { latitude: m.geofence.latitude, longitude: m.geofence.longitude } : null,
    radius: m.geofence ? m.geofence.radius_m : 200,
    allowStaticCode: Boolean(m.allow_static_code),
    signOut: Boolean(m.sign_out_enabled),
  });
}

// a weekly series (GET /meetings/series/{id}) -> the form: its template, the time of day and length,
// and the date of its first meeting (the weekday cannot change; only the time of day is used).
function fromSeries(series) {
  const t = series.template || {};
  const starts = time.parseISO(series.first_starts_at);
  const ends = new Date(starts + (series.duration_minutes || 60) * 60000).toISOString();
  const form = fromMeeting({
    title: t.title || series.title,
    description: t.description,
    place_id: t.place_id,
    location: t.location || '',
    starts_at: series.first_starts_at,
    ends_at: ends,
    opens_before_minutes: t.opens_before_minutes === undefined || t.opens_before_minutes === null ? 30 : t.opens_before_minutes,
    late_after_minutes: t.late_after_minutes === undefined || t.late_after_minutes === null ? 5 : t.late_after_minutes,
    closes_after_end_minutes: t.closes_after_end_minutes,
    geofence: t.geofence,
    allow_static_code: t.allow_static_code,
    sign_out_enabled: t.sign_out_enabled,
    audience: t.audience,
  });
  // a room's series keeps its own detail text (a meeting's location is the room's name with it)
  return Object.assign(form, { location: t.location || '', placeName: '' });
}

const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

// "每周一 16:00-17:00"
function weeklyText(series) {
  const starts = time.parseISO(series.first_starts_at);
  if (isNaN(starts)) return series.description || '';
  const p = time.schoolParts(starts);
  const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  const every = series.interval_weeks > 1 ? '每' + series.interval_weeks + '周' : '每周';
  const end = clock(new Date(starts + (series.duration_minutes || 0) * 60000).toISOString());
  return every + WEEKDAYS[weekday] + ' ' + pad(p.hour) + ':' + pad(p.minute) + (series.duration_minutes ? '-' + end : '');
}

// Who else is invited besides staff and departments (set in the admin console), or ''.
function audienceExtraText(form) {
  const parts = [];
  if ((form.classIds || []).length) parts.push(form.classIds.length + ' 个班级的' + (form.classMembers === 'parents' ? '家长' : '学生'));
  if ((form.audienceRoles || []).length) parts.push(form.audienceRoles.length + ' 类角色');
  if ((form.userIds || []).length) parts.push(form.userIds.length + ' 位指定人员');
  return parts.length ? '另含 ' + parts.join('、') + '（保存时保留）' : '';
}

// 32 hex characters: one per scan, reused when the same request is retried.
function newNonce() {
  let out = '';
  for (let i = 0; i < 32; i += 1) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

module.exports = {
  PHASE_LABELS,
  ATTENDANCE_LABELS,
  LEAVE_LABELS,
  REPORT_TABS,
  REASON_TITLES,
  RESCANNABLE,
  resultTitle,
  timeRange,
  clock,
  isoFromPicker,
  pickerFromIso,
  emptyForm,
  validate,
  toPayload,
  fromMeeting,
  fromSeries,
  weeklyText,
  audienceExtraText,
  newNonce,
};
