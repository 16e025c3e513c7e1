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

const dispatcher = () => user({ id: 4, nickname: '王调度', roles: ['dispatcher', 'teacher'], person: { kind: 'staff', name: '王调度', number: 'D0001', department: '后勤处', class_name: null } });

function categories() {
  return [
    { id: 1, code: 'water_electric', name: '水电', icon: '💡', color: '#1989fa', sort_order: 0, active: true },
    { id: 2, code: 'carpentry', name: '木工', icon: '🪚', color: '#d9822b', sort_order: 1, active: true },
    { id: 4, code: 'network', name: '网络', icon: '🌐', color: '#7232dd', sort_order: 3, active: true },
  ];
}

// A repair as GET /api/v1/repairs/{id} answers (times in UTC).
function repair(overrides) {
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
      description: '灯不亮了',
      reporter_name: '张老师',
      assignee_id: 2,
      assignee_name: '李师傅',
      created_at: '2026-11-23T01:00:00+00:00',
      due_at: '2026-11-23T01:30:00+00:00',
      overdue: false,
      pool: false,
      linked: false,
      contact_phone: '13800000001',
      preferred_time: '今天下午',
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
      photos: [{ id: 7, kind: 'report', url: '/api/v1/repairs/photo-files/full-7', thumb_url: '/api/v1/repairs/photo-files/thumb-7', width: 800, height: 600 }],
      deadlines: [
        { kind: 'accept', label: '接单', due_at: '2026-11-23T01:30:00+00:00', met_at: null, overdue: false, escalated: false },
        { kind: 'arrive', label: '到场', due_at: '2026-11-24T01:00:00+00:00', met_at: null, overdue: false, escalated: false },
        { kind: 'finish', label: '完成', due_at: '2026-11-26T01:00:00+00:00', met_at: null, overdue: false, escalated: false },
      ],
      timeline: [
        { action: 'submit', label: '提交报修', actor_name: '张老师', status: 'submitted', note: null, at: '2026-11-23T01:00:00+00:00' },
        { action: 'assign', label: '派单', actor_name: '系统', status: 'assigned', note: '派给李师傅', at: '2026-11-23T01:00:01+00:00' },
      ],
      actions: ['add_photos', 'cancel'],
    },
    overrides
  );
}

function templates() {
  return [
    { event: 'repairs.status', template_id: 'tpl-status', title: '报修进度通知' },
    { event: 'repairs.task', template_id: 'tpl-task', title: '维修任务提醒' },
    { event: 'repairs.alert', template_id: 'tpl-alert', title: '报修超时提醒' },
    { event: 'notifications.notice', template_id: 'tpl-notice', title: '后勤通知' },
  ];
}

module.exports = { user, unbound, worker, student, dispatcher, tokens, place, categories, repair, templates };
