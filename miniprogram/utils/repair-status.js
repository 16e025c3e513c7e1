// Repair statuses, urgencies and workflow actions (app/repairs/states.py) -> Chinese labels and
// the colour of a status tag. tests/repair-status.test.js holds a copy of the backend's list and
// fails when a status lacks a label here.

const STATUS_LABELS = {
  submitted: '待派单',
  assigned: '待接单',
  accepted: '已接单',
  in_progress: '维修中',
  on_hold: '暂停中',
  completed: '待确认',
  confirmed: '已完成',
  cancelled: '已取消',
};

// tag colour class per status: waiting (orange), working (blue), needs the reporter (green), closed (grey)
const STATUS_TONES = {
  submitted: 'wait',
  assigned: 'wait',
  accepted: 'work',
  in_progress: 'work',
  on_hold: 'wait',
  completed: 'done',
  confirmed: 'closed',
  cancelled: 'closed',
};

const URGENCY_LABELS = { normal: '普通', urgent: '紧急' };

const ACTION_LABELS = {
  submit: '提交报修',
  assign: '派单',
  accept: '接单',
  decline: '退回',
  transfer: '转派',
  start: '到场维修',
  hold: '暂停',
  resume: '继续维修',
  complete: '维修完成',
  confirm: '确认评价',
  auto_confirm: '自动确认',
  cancel: '取消报修',
  reopen: '重新报修',
  reprioritise: '调整紧急程度',
  link: '关联报修',
  add_photos: '补充照片',
  escalate: '超时督办',
};

// Events of the subscribe-message templates (app/repairs/service.py).
const EVENTS = { status: 'repairs.status', task: 'repairs.task', alert: 'repairs.alert' };

function statusLabel(status) {
  return STATUS_LABELS[status] || status || '';
}

function statusTone(status) {
  return STATUS_TONES[status] || 'closed';
}

function urgencyLabel(urgency) {
  return URGENCY_LABELS[urgency] || urgency || '';
}

function actionLabel(action) {
  return ACTION_LABELS[action] || action;
}

module.exports = { STATUS_LABELS, STATUS_TONES, URGENCY_LABELS, ACTION_LABELS, EVENTS, statusLabel, statusTone, urgencyLabel, actionLabel };
