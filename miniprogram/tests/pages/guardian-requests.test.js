const { installWx, envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packageGuardians/pages/requests/requests';
const LIST = '/api/v1/guardian-requests';
const GUARDIANS = '/api/v1/students/3/guardians';

let mock;

// A request as GET /guardian-requests lists it to the student or the class teacher.
function request(overrides) {
  return Object.assign(
    {
      id: 5,
      status: 'pending',
      status_label: '等待确认',
      relation: '母亲',
      requester_name: '陈妈妈',
      requester_phone_masked: '139****0001',
      student_id: 3,
      student_name: '陈同学',
      student_number: 'S2026001',
      class_name: '高一(1)班',
      created_at: new Date(Date.now() - 5 * 60 * 1000).toISOString(),
      expires_at: '2026-10-21T02:00:00+00:00',
      decided_at: null,
      decided_by: null,
      actions: ['approve', 'reject'],
    },
    overrides
  );
}

const STUDENT = Object.assign(fx.student(), { student_id: 3, decides_guardians: true, guardian_requests_to_decide: 1 });
const TEACHER = fx.user({ decides_guardians: true, guardian_requests_to_decide: 1 });

function setup(user, options) {
  mock = installWx(options);
  tokens.save(fx.tokens('a', user));
  mock.route('GET', GUARDIANS, [200, {
    student_id: 3,
    student_name: '陈同学',
    class_name: '高一(1)班',
    guardians: [{ user_id: 12, name: '陈同学家长', relation: '父亲', phone_masked: '138****0009', since: '2026-09-01T02:00:00+00:00' }],
    max_guardians: 4,
    roster_phones_masked: ['138****0009'],
  }]);
}

async function open() {
  const page = render(PAGE);
  await page.instance.onLoad({});
  await flush();
  return page;
}

function modal() {
  const calls = mock.wx.showModal.mock.calls;
  return calls[calls.length - 1][0];
}

describe('家长绑定申请', () => {
  test('the class teacher sees who asks for which pupil, with the masked phone WeChat verified', async () => {
    setup(TEACHER);
    mock.route('GET', LIST, [200, [request()]]);
    const page = await open();

    expect(mock.calls('GET', LIST)[0].data).toEqual({ page_size: 20, status: 'pending' });
    const shown = text(page);
    expect(shown).toContain('陈妈妈（母亲）');
    expect(shown).toContain('申请绑定为 陈同学 · 高一(1)班 · S2026001 的家长');
    expect(shown).toContain('微信手机号 139****0001');
    expect(shown).toContain('5分钟前申请，10月21日 10:00 前有效');
    expect(page.querySelector('.guardians')).toBeUndefined(); // a teacher has no parents of their own here
    expect(mock.calls('GET', GUARDIANS)).toHaveLength(0);
  });

  test('通过 asks to confirm, approves and takes the row away', async () => {
    setup(TEACHER);
    mock.route('GET', LIST, [200, [request()]]);
    mock.route('POST', LIST + '/5/approve', [200, request({ status: 'approved', status_label: '已通过', actions: [], decided_by: '班主任' })]);
    const page = await open();

    await fire(page.querySelector('.approve'));

    expect(modal().title).toBe('通过绑定申请');
    expect(modal().content).toContain('确认陈妈妈（母亲）是陈同学的家长');
    expect(mock.calls('POST', LIST + '/5/approve')).toHaveLength(1);
    expect(mock.toasts()).toContain('已通过');
    expect(page.querySelectorAll('.request')).toHaveLength(0);
    expect(text(page)).toContain('没有待确认的申请');
  });

  test('拒绝 cancelled in the dialog sends nothing; confirmed, it rejects', async () => {
    setup(TEACHER, { confirm: false });
    mock.route('GET', LIST, [200, [request()]]);
    const page = await open();
    await fire(page.querySelector('.reject'));
    expect(modal().title).toBe('拒绝绑定申请');
    expect(mock.calls('POST', LIST + '/5/reject')).toHaveLength(0);
    expect(page.querySelectorAll('.request')).toHaveLength(1);

    setup(TEACHER);
    mock.route('GET', LIST, [200, [request()]]);
    mock.route('POST', LIST + '/5/reject', [200, request({ status: 'rejected', status_label: '未通过', actions: [] })]);
    const again = await open();
    await fire(again.querySelector('.reject'));
    expect(mock.calls('POST', LIST + '/5/reject')).toHaveLength(1);
    expect(mock.toasts()).toContain('已拒绝');
  });

  test('decided by someone else meanwhile: the reason is shown and the list reloaded', async () => {
    setup(TEACHER);
    mock.route('GET', LIST, [200, [request()]]);
    mock.route('POST', LIST + '/5/approve', [409, envelope(409, 'guardian_request.invalid_transition', '该申请已通过，不能通过')]);
    const page = await open();
    mock.route('GET', LIST, [200, []]);

    await fire(page.querySelector('.approve'));

    expect(mock.toasts()).toContain('该申请已通过，不能通过');
    expect(mock.calls('GET', LIST)).toHaveLength(2);
    expect(page.querySelectorAll('.request')).toHaveLength(0);
  });

  test('已处理 lists the decided ones and who decided', async () => {
    setup(TEACHER);
    mock.route('GET', LIST, req => [200, req.data.status === 'done' ? [request({ id: 4, status: 'approved', status_label: '已通过', actions: [], decided_by: '孩子' })] : [request()]]);
    const page = await open();
    await fire(page.querySelectorAll('.tab')[1]);

    expect(mock.calls('GET', LIST)[1].data).toEqual({ page_size: 20, status: 'done' });
    expect(page.querySelectorAll('.request')).toHaveLength(1);
    expect(text(page)).toContain('已通过');
    expect(text(page)).toContain('由孩子处理');
    expect(page.querySelector('.approve')).toBeUndefined();
  });

  test('more requests than a page: the next page at the bottom', async () => {
    setup(TEACHER);
    const all = [];
    for (let i = 25; i >= 1; i -= 1) all.push(request({ id: i, requester_name: '家长' + i }));
    mock.route('GET', LIST, fx.paged(all, 20));
    const page = await open();
    expect(page.querySelectorAll('.request')).toHaveLength(20);

    await page.instance.onReachBottom();
    await flush();

    expect(mock.calls('GET', LIST)[1].data).toEqual({ page_size: 20, status: 'pending', page: 2 });
    expect(page.querySelectorAll('.request')).toHaveLength(25);
    expect(text(page)).toContain('没有更多了');
  });

  test('a student sees their parents and unbinds one after confirming', async () => {
    setup(STUDENT);
    mock.route('GET', LIST, [200, []]);
    mock.route('DELETE', GUARDIANS + '/12', [204, '']);
    const page = await open();

    const card = page.querySelector('.guardians').dom.textContent.replace(/\s+/g, ' ');
    expect(card).toContain('我的家长（1/4）');
    expect(card).toContain('陈同学家长（父亲）');
    expect(card).toContain('138****0009');
    mock.route('GET', GUARDIANS, [200, { student_id: 3, student_name: '陈同学', class_name: '高一(1)班', guardians: [], max_guardians: 4, roster_phones_masked: [] }]);

    await fire(page.querySelector('.remove'));

    expect(modal().title).toBe('解除家长绑定');
    expect(mock.calls('DELETE', GUARDIANS + '/12')).toHaveLength(1);
    expect(mock.toasts()).toContain('已解除');
    expect(text(page)).toContain('还没有家长绑定');
  });

  test('an approval by the student refreshes their parents', async () => {
    setup(STUDENT);
    mock.route('GET', LIST, [200, [request()]]);
    mock.route('POST', LIST + '/5/approve', [200, request({ status: 'approved', actions: [] })]);
    const page = await open();

    await fire(page.querySelector('.approve'));

    expect(mock.calls('GET', GUARDIANS)).toHaveLength(2);
  });

  test('a list that cannot load says so and offers 重试', async () => {
    setup(TEACHER);
    mock.route('GET', LIST, { fail: 'request:fail timeout' });
    const page = await open();
    expect(text(page)).toContain('加载失败');
    mock.route('GET', LIST, [200, [request()]]);

    await fire(page.querySelector('#retry'));

    expect(page.querySelectorAll('.request')).toHaveLength(1);
  });
});
