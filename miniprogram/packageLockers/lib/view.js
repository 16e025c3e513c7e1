// How the locker pages show parcels, banks and compartments, and what they say for the server's errors
// (money is integer fen, times are school time through utils/time).
const { formatFen } = require('../../utils/money');
const { formatDateTime } = require('../../utils/time');

const STATUS_LABELS = { depositing: '投递中', stored: '待取件', picked_up: '已取件', to_return: '待退回', returned: '已退回' };
const STATUS_TONES = { depositing: 'pool', stored: 'warn', picked_up: 'done', to_return: 'muted', returned: 'muted' };
const SIZES = [
  { key: 'S', label: '小格' },
  { key: 'M', label: '中格' },
  { key: 'L', label: '大格' },
];
const TRACKING_RE = /^[A-Za-z0-9-]{4,40}$/;
const PHONE_RE = /^1\d{10}$/;
const KIND_LABELS = { staff: '教职工', student: '学生', parent: '家长' };

// What a person reads for an error of the lockers' endpoints: the server's own message is Chinese
// already; these say what to do next where the page knows better.
const MESSAGES = {
  'lockers.bank_offline': '快递柜离线，暂时不能开柜。请换一个快递柜，或把包裹放到驿站',
  'lockers.bank_not_found': '该快递柜已不存在，请刷新后重新选择',
  'lockers.duplicate_tracking_no': '该运单号的包裹已投递且尚未取走，请核对运单号',
  'lockers.recipient_ambiguous': '同名的人不止一位，请在搜索结果中选定收件人',
  'lockers.recipient_not_found': '找不到收件人，请核对手机号、学号/工号或姓名',
  'lockers.parcel_not_found': '包裹不存在或不属于你',
  'lockers.at_counter': '包裹在驿站货架上，请到驿站出示取件码领取',
  'lockers.code_not_found': '取件码无效，请核对后重试',
  'lockers.compartment_not_found': '格口不存在，请刷新后重试',
  'parcel.invalid_transition': '包裹状态已变化，请刷新后重试',
  'devices.offline': '快递柜没有响应，柜门未打开，请稍后重试',
  'devices.refused': '快递柜拒绝了开门请求，请稍后重试或联系驿站',
  forbidden: '你没有权限进行此操作',
};

function errorMessage(err) {
  if (!err) return '';
  if (err.error_code === 'validation_error') {
    const fields = (err.errors && (err.errors.json || err.errors.query)) || err.errors || {};
    const first = Object.keys(fields).map(k => [].concat(fields[k])[0])[0];
    if (typeof first === 'string' && first) return first;
  }
  return MESSAGES[err.error_code] || err.message || '操作失败，请稍后重试';
}

function where(raw) {
  if (raw.storage === 'counter') return { title: '驿站货架 ' + (raw.shelf_code || ''), place: raw.place_name || '' };
  return { title: raw.bank_name + (raw.compartment ? ' ' + raw.compartment + ' 号格口' : ''), place: raw.place_name || '' };
}

// A parcel as its recipient (or the proxy) sees it; `me` is my user id (a parcel shared with me says 代取).
function parcel(raw, me) {
  const spot = where(raw);
  const stored = raw.status === 'stored';
  const feeFen = stored ? raw.fee_due_fen || 0 : 0;
  const sharedWith = raw.shared_with === undefined ? null : raw.shared_with;
  return {
    id: raw.id,
    trackingNo: raw.tracking_no,
    status: raw.status,
    statusLabel: STATUS_LABELS[raw.status] || raw.status_label || raw.status,
    tone: STATUS_TONES[raw.status] || 'muted',
    where: spot.title,
    place: spot.place,
    atCounter: raw.storage === 'counter',
    since: raw.stored_at ? formatDateTime(raw.stored_at) : '',
    pickedUpAt: raw.picked_up_at ? formatDateTime(raw.picked_up_at) : '',
    code: stored ? raw.pickup_code || '' : '',
    codeDigits: stored && raw.pickup_code ? raw.pickup_code.split('') : [],
    feeFen,
    fee: feeFen ? formatFen(feeFen) : '',
    canOpen: stored && raw.storage === 'locker',
    forMe: sharedWith !== null && sharedWith === me, // shared with me: I collect it for someone (代取)
    shared: sharedWith !== null && sharedWith !== me, // I shared it
    canShare: stored && !(sharedWith !== null && sharedWith === me),
  };
}

// A person typed for 代取: an 11-digit phone, a 学号/工号 (letters and digits), else a name.
function who(text) {
  const value = String(text || '').trim();
  if (!value) return null;
  if (PHONE_RE.test(value)) return { phone: value };
  if (/^[A-Za-z0-9]+$/.test(value)) return { number: value };
  return { name: value };
}

function trackingNo(text) {
  const value = String(text || '').trim();
  return TRACKING_RE.test(value) ? value : '';
}

// A recipient of the courier's search: enough to tell namesakes apart.
function match(raw) {
  return {
    id: raw.user_id,
    name: raw.name,
    detail: [KIND_LABELS[raw.kind] || '', raw.unit || '', raw.phone_masked || ''].filter(Boolean).join(' · '),
  };
}

function bank(raw) {
  const free = raw.free || {};
  return {
    id: raw.id,
    name: raw.name,
    place: raw.place_name,
    online: Boolean(raw.online),
    onlineLabel: raw.online ? '在线' : '离线',
    free,
    freeLabel: SIZES.map(s => s.label + ' ' + (free[s.key] || 0)).join(' · '),
    outOfService: raw.out_of_service || 0,
    waiting: raw.parcels_waiting || 0,
  };
}

function sizes(free) {
  return SIZES.map(s => ({ key: s.key, label: s.label, free: (free && free[s.key]) || 0 }));
}

// A counter parcel or one to take back, as staff and couriers see it (never its pickup code).
function stationParcel(raw) {
  const spot = where(raw);
  return {
    id: raw.id,
    trackingNo: raw.tracking_no,
    where: spot.title,
    place: spot.place,
    atCounter: raw.storage === 'counter',
    recipient: raw.recipient_name || '',
    since: raw.stored_at ? formatDateTime(raw.stored_at) : '',
    statusLabel: STATUS_LABELS[raw.status] || raw.status,
  };
}

// A scanned pickup QR (".../parcel-pickup?code=123456") or a typed code -> the 6 digits, else ''.
function pickupCode(text) {
  const value = String(text || '').trim();
  if (/^\d{6}$/.test(value)) return value;
  const m = /parcel-pickup\?(?:.*&)?code=(\d{6})(?:&|$)/.exec(value);
  return m ? m[1] : '';
}

module.exports = { STATUS_LABELS, SIZES, errorMessage, parcel, who, trackingNo, match, bank, sizes, stationParcel, pickupCode };
