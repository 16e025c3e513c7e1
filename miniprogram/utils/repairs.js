// Repairs: status and action labels, the report form's choices and checks, and list item shaping.
const time = require('./time');
const money = require('./money');

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

const STATUS_COLORS = {
  submitted: '#ff976a',
  assigned: '#ff976a',
  accepted: '#1989fa',
  in_progress: '#1989fa',
  on_hold: '#8f959e',
  completed: '#07c160',
  confirmed: '#8f959e',
  cancelled: '#c8c9cc',
};

// Buttons on the detail page, in the order they are shown; `reason`: asks for a reason first
// (required, or optional), `confirm`: asks "are you sure".
const ACTIONS = [
  { name: 'accept', label: '接单', primary: true },
  { name: 'start', label: '到场维修', primary: true },
  { name: 'complete', label: '维修完成', primary: true },
  { name: 'resume', label: '继续维修', primary: true },
  { name: 'confirm', label: '确认并评价', primary: true },
  { name: 'assign', label: '派单', primary: true, picker: true },
  { name: 'transfer', label: '转派', picker: true },
  { name: 'hold', label: '暂停', reason: 'required', prompt: '请填写暂停原因（如等配件）' },
  { name: 'decline', label: '退回', reason: 'required', prompt: '请填写退回原因' },
  { name: 'reprioritise', label: '调整紧急程度' },
  { name: 'add_photos', label: '补充照片' },
  { name: 'reopen', label: '没修好，重新报修', reason: 'required', prompt: '请说明哪里还有问题' },
  { name: 'cancel', label: '取消报修', danger: true, reason: 'optional', prompt: '取消原因（选填）' },
];

const URGENCIES = [
  { value: 'normal', label: '普通' },
  { value: 'urgent', label: '紧急' },
];

const PREFERRED_TIMES = ['尽快', '今天上午', '今天下午', '明天上午', '明天下午', '工作日', '周末'];

const TASK_TABS = [
  { value: 'new', label: '新任务' },
  { value: 'active', label: '进行中' },
  { value: 'done', label: '已完成' },
];

const MAX_PHOTOS = 9;
const PHONE_RE = /^\+?[0-9][0-9-]{5,19}$/;

function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}

function actionsFor(names) {
  const allowed = names || [];
  return ACTIONS.filter(action => allowed.indexOf(action.name) >= 0);
}

// form: {categoryId, place, description, contactPhone, photos} -> {field: message}
function validate(form) {
  const errors = {};
  if (!form.categoryId) errors.category = '请选择报修类别';
  if (!form.place) errors.place = '请选择报修地点';
  const description = String(form.description || '').trim();
  if (description.length < 2) errors.description = '请描述问题（至少2个字）';
  else if (description.length > 500) errors.description = '描述不能超过500字';
  if (!PHONE_RE.test(String(form.contactPhone || '').trim())) errors.phone = '请填写正确的联系电话';
  const photos = form.photos || [];
  if (photos.some(p => p.uploading)) errors.photos = '照片还在上传，请稍候';
  else if (photos.some(p => p.failed)) errors.photos = '有照片上传失败，请删除后重试';
  return errors;
}

// A repair from a list endpoint -> what a list row shows.
function listItem(repair, now) {
  return Object.assign({}, repair, {
    statusLabel: repair.status_label || statusLabel(repair.status),
    statusColor: STATUS_COLORS[repair.status] || '#8f959e',
    createdText: time.formatRelative(repair.created_at, now),
    dueText: repair.due_at ? time.formatDateTime(repair.due_at, now) : '',
    placeShort: shortPlace(repair.place_name),
  });
}

// "东校区 › 行政楼 › 3F › 301" -> "行政楼 3F 301"
function shortPlace(name) {
  const parts = String(name || '').split('›').map(p => p.trim()).filter(Boolean);
  return (parts.length > 1 ? parts.slice(1) : parts).join(' ');
}

function costText(fen) {
  return money.formatFen(fen || 0);
}

function stars(n) {
  const full = Math.max(0, Math.min(5, n || 0));
  return '★★★★★'.slice(0, full) + '☆☆☆☆☆'.slice(0, 5 - full);
}

module.exports = {
  STATUS_LABELS,
  STATUS_COLORS,
  ACTIONS,
  URGENCIES,
  PREFERRED_TIMES,
  TASK_TABS,
  MAX_PHOTOS,
  statusLabel,
  actionsFor,
  validate,
  listItem,
  shortPlace,
  costText,
  stars,
};
