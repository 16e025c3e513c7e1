// Parents' requests to act for a student, as the student, the class teacher or an admin decides them,
// and a student's bound parents.
const { request, list } = require('./request');

// params {status: 'pending' (default) | 'done' (all but pending) | 'approved' | … | 'all', page, page_size}
function requests(params, options) {
  return list('/api/v1/guardian-requests', params, options);
}

function decide(id, action, options) {
  return request(Object.assign({ url: '/api/v1/guardian-requests/' + id + '/' + action, method: 'POST' }, options));
}

const approve = (id, options) => decide(id, 'approve', options);
const reject = (id, options) => decide(id, 'reject', options);

// {student_id, student_name, class_name, guardians: [{user_id, name, relation, phone_masked, since}], max_guardians}
function studentGuardians(studentId, options) {
  return request(Object.assign({ url: '/api/v1/students/' + studentId + '/guardians' }, options));
}

function removeGuardian(studentId, userId, options) {
  return request(
    Object.assign({ url: '/api/v1/students/' + studentId + '/guardians/' + userId, method: 'DELETE' }, options)
  );
}

module.exports = { requests, approve, reject, studentGuardians, removeGuardian };
