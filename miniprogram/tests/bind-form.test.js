// utils/bind-form: what a parent sends and how the 202 of a request is told from a profile
// (the other kinds: tests/utils.test.js).
const bindForm = require('../utils/bind-form');

describe('bind-form for parents', () => {
  test('a proved phone and a relation go with the child; an unknown relation is left out', () => {
    expect(bindForm.toPayload({ kind: 'parent', number: ' S1 ', name: '李四', phoneCode: 'pc', relation: '母亲' })).toEqual({
      kind: 'parent',
      student_number: 'S1',
      student_name: '李四',
      phone_code: 'pc',
      relation: '母亲',
    });
    expect(bindForm.toPayload({ kind: 'parent', number: 'S1', name: '李四', phoneCode: '', relation: '舅舅' })).toEqual({
      kind: 'parent',
      student_number: 'S1',
      student_name: '李四',
    });
    expect(bindForm.toPayload({ kind: 'student', number: 'S1', name: '李四', relation: '母亲' })).toEqual({ kind: 'student', number: 'S1', name: '李四' });
    expect(bindForm.RELATIONS).toEqual(['父亲', '母亲', '其他']);
  });

  test('a pending answer is told from a profile', () => {
    expect(bindForm.isPending({ status: 'pending', message: '申请已提交', request: { id: 1 } })).toBe(true);
    expect(bindForm.isPending({ id: 1, bound: true, roles: ['parent'] })).toBe(false);
    expect(bindForm.isPending(null)).toBe(false);
  });
});
