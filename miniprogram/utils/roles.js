// Role keys (see DESIGN §1) and person kinds -> the Chinese labels people read.

const ROLE_LABELS = {
  teacher: '教职工',
  student: '学生',
  parent: '家长',
  worker: '维修工',
  dispatcher: '报修调度',
  canteen: '食堂',
  courier: '快递员',
  finance: '财务',
  admin: '后勤管理员',
};

const PERSON_KIND_LABELS = {
  staff: '教职工',
  student: '学生',
  parent: '家长',
};

function roleLabel(role) {
  return ROLE_LABELS[role] || role;
}

function roleLabels(roles) {
  return (roles || []).map(roleLabel);
}

function personKindLabel(kind) {
  return PERSON_KIND_LABELS[kind] || kind;
}

function hasAnyRole(user, roles) {
  const own = (user && user.roles) || [];
  return roles.some(role => own.indexOf(role) >= 0);
}

module.exports = { ROLE_LABELS, PERSON_KIND_LABELS, roleLabel, roleLabels, personKindLabel, hasAnyRole };
