// The roster-binding form on 我的: per-kind labels, client-side checks, payload, server errors.
// A parent may prove a phone number the school registered for the child (getPhoneNumber's code,
// bound at once) and say who they are (RELATIONS, optional); without a matching phone the server
// answers 202 with a request the child or the class teacher confirms (isPending).

const KINDS = [
  { value: 'staff', label: '教职工', numberLabel: '工号', nameLabel: '姓名' },
  { value: 'student', label: '学生', numberLabel: '学号', nameLabel: '姓名' },
  { value: 'parent', label: '家长', numberLabel: '孩子的学号', nameLabel: '孩子的姓名' },
];

const RELATIONS = ['父亲', '母亲', '其他'];

const NUMBER_RE = /^[A-Za-z0-9-]{2,32}$/;
const NAME_MAX = 32;

function kindOf(value) {
  return KINDS.filter(kind => kind.value === value)[0] || KINDS[0];
}

function trim(value) {
  return String(value || '').trim();
}

// form: {kind, number, name, phoneCode} -> {number?, name?} (empty when valid)
function validate(form) {
  const kind = kindOf(form.kind);
  const errors = {};
  const number = trim(form.number);
  const name = trim(form.name);
  if (!number) errors.number = '请输入' + kind.numberLabel;
  else if (!NUMBER_RE.test(number)) errors.number = kind.numberLabel + '应为2到32位字母、数字或“-”';
  if (!name) errors.name = '请输入' + kind.nameLabel;
  else if (name.length > NAME_MAX) errors.name = kind.nameLabel + '不能超过' + NAME_MAX + '个字';
  return errors;
}

// form: {kind, number, name, phoneCode, relation} -> the POST /me/bind body
function toPayload(form) {
  const kind = kindOf(form.kind).value;
  const number = trim(form.number);
  const name = trim(form.name);
  if (kind === 'parent') {
    const payload = { kind, student_number: number, student_name: name };
    if (form.phoneCode) payload.phone_code = form.phoneCode;
    if (RELATIONS.indexOf(form.relation) >= 0) payload.relation = form.relation;
    return payload;
  }
  const payload = { kind, number, name };
  if (kind === 'staff' && form.phoneCode) payload.phone_code = form.phoneCode;
  return payload;
}

// The bind answered 202: a request waits for the child or the class teacher (not a profile).
function isPending(body) {
  return Boolean(body && body.status === 'pending' && body.request);
}

const SERVER_FIELDS = {
  number: 'number',
  student_number: 'number',
  name: 'name',
  student_name: 'name',
  phone_code: 'phone',
};

// A 422 envelope's `errors` -> {number?, name?, phone?}. Accepts flat {field: [msg]} and
// flask-smorest's per-location {json: {field: [msg]}}.
function fieldErrorsFromServer(errors) {
  const source = errors && typeof errors.json === 'object' ? errors.json : errors || {};
  const out = {};
  Object.keys(source).forEach(key => {
    const field = SERVER_FIELDS[key];
    const value = source[key];
    const message = Array.isArray(value) ? value[0] : value;
    if (field && typeof message === 'string' && !out[field]) out[field] = message;
  });
  return out;
}

module.exports = { KINDS, RELATIONS, kindOf, validate, toPayload, isPending, fieldErrorsFromServer };
