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

module.exports = { user, unbound, worker, student, tokens, place };
