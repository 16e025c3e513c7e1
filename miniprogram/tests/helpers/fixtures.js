// Users and places shaped like the API's responses.

function user(overrides) {
  return Object.assign(
    {
      id: 1,
      nickname: '张老师',
      roles: ['teacher'],
      bound: true,
      phone_masked: '138****0001',
      person: { kind: 'staff', name: '张三', number: 'T0001', department: '语文教研组', class_name: null },
      children: [],
    },
    overrides
  );
}

const unbound = () => user({ nickname: '微信用户', roles: [], bound: false, phone_masked: null, person: null });
const worker = () => user({ id: 2, nickname: '王师傅', roles: ['worker'], person: { kind: 'staff', name: '王五', number: 'W0001', department: '维修班', class_name: null } });
const student = () => user({ id: 3, nickname: '小李', roles: ['student'], phone_masked: null, person: { kind: 'student', name: '李四', number: 'S2026001', department: null, class_name: '高一(1)班' } });

function tokens(n, u) {
  return { access_token: 'access-' + n, refresh_token: 'refresh-' + n, expires_in: 900, user: u || user() };
}

function place(overrides) {
  return Object.assign(
    {
      id: 14,
      code: 'E-ADM-301',
      name: '301',
      kind: 'room',
      path: [
        { id: 1, name: '东校区', kind: 'campus', code: 'E' },
        { id: 5, name: '行政楼', kind: 'building', code: 'E-ADM' },
        { id: 9, name: '3F', kind: 'floor', code: 'E-ADM-3F' },
        { id: 14, name: '301', kind: 'room', code: 'E-ADM-301' },
      ],
      full_name: '东校区 › 行政楼 › 3F › 301',
    },
    overrides
  );
}

function notification(overrides) {
  return Object.assign(
    {
      id: 1,
      event: 'notifications.notice',
      title: '明日停水通知',
      body: '明天 8:00-12:00 行政楼停水检修',
      link: null,
      urgency: 'normal',
      read: false,
      created_at: new Date(Date.now() - 5 * 60 * 1000).toISOString(),
    },
    overrides
  );
}

// n notifications with ids from `firstId` down.
function notifications(n, firstId) {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(notification({ id: (firstId || n) - i, title: '通知 ' + ((firstId || n) - i) }));
  return out;
}

function delivery(overrides) {
  return Object.assign(
    {
      id: 31,
      notification_id: 1,
      user_id: 12,
      event: 'notifications.notice',
      title: '明日停水通知',
      channel: 'subscribe',
      status: 'dead',
      attempts: 5,
      next_attempt_at: '2026-11-21T06:30:00+00:00',
      last_error: 'WeChatError 43101',
      sent_at: null,
    },
    overrides
  );
}

const CATEGORIES = [
  { id: 1, code: 'water_electric', name: '水电', icon: '💡', color: '#1989fa', sort_order: 0, active: true },
  { id: 2, code: 'carpentry', name: '木工', icon: '🪚', color: '#d9822b', sort_order: 1, active: true },
  { id: 6, code: 'other', name: '其他', icon: '🔧', color: '#8f959e', sort_order: 5, active: true },
];

// A repair as GET /repairs/mine, /tasks and /queue list it (RepairSummarySchema).
function repairSummary(overrides) {
  return Object.assign(
    {
      id: 5,
      status: 'assigned',
      status_label: '待接单',
      urgency: 'normal',
      urgency_label: '普通',
      category: { id: 1, name: '水电', icon: '💡', color: '#1989fa' },
      place_id: 14,
      place_name: '东校区 › 行政楼 › 3F › 301',
      description: '灯管不亮',
      reporter_name: '张老师',
      assignee_id: 2,
      assignee_name: '李师傅',
      created_at: '2026-11-20T01:00:00+00:00',
      due_at: '2026-11-20T01:30:00+00:00',
      overdue: false,
      pool: false,
      linked: false,
    },
    overrides
  );
}

// A repair's detail (RepairDetailSchema).
function repair(overrides) {
  return Object.assign(
    repairSummary(),
    {
      contact_phone: '13800000001',
      preferred_time: '工作日下午',
      group_id: 1,
      duplicate_of_id: null,
      accepted_at: null,
      started_at: null,
      completed_at: null,
      closed_at: null,
      labour_minutes: null,
      material_cost_fen: 0,
      completion_note: null,
      materials: [],
      rating: null,
      photos: [{ id: 7, kind: 'report', url: '/api/v1/repairs/photo-files/full7', thumb_url: '/api/v1/repairs/photo-files/thumb7', width: 800, height: 600 }],
      deadlines: [{ kind: 'accept', label: '接单', due_at: '2026-11-20T01:30:00+00:00', met_at: null, overdue: false, escalated: false }],
      timeline: [
        { action: 'submit', label: '提交报修', actor_name: '张老师', status: 'submitted', note: null, at: '2026-11-20T01:00:00+00:00' },
        { action: 'assign', label: '派单', actor_name: '系统', status: 'assigned', note: '派给李师傅', at: '2026-11-20T01:00:05+00:00' },
      ],
      actions: ['add_photos', 'cancel'],
    },
    overrides
  );
}

// The X-Pagination header flask-smorest sends.
function paginationHeader(page, totalPages, total) {
  const meta = { total, total_pages: totalPages, first_page: 1, last_page: totalPages, page };
  if (page < totalPages) meta.next_page = page + 1;
  if (page > 1) meta.previous_page = page - 1;
  return { 'X-Pagination': JSON.stringify(meta) };
}

// A route answering `rows` a page at a time like the API: ?page (1 when not given), `size` rows a
// page (else the request's page_size), with the X-Pagination header. `rows` is read at every request,
// so a test may take rows out of it meanwhile.
function paged(rows, size) {
  return req => {
    const perPage = size || req.data.page_size;
    const page = req.data.page || 1;
    const pages = Math.max(1, Math.ceil(rows.length / perPage));
    return [200, rows.slice((page - 1) * perPage, page * perPage), paginationHeader(page, pages, rows.length)];
  };
}

module.exports = {
  user,
  unbound,
  worker,
  student,
  tokens,
  place,
  notification,
  notifications,
  delivery,
  paginationHeader,
  paged,
  CATEGORIES,
  repairSummary,
  repair,
};
