const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');
const subscribe = require('../../services/subscribe');

const BIND = '/api/v1/me/bind';
const MY_REQUESTS = '/api/v1/me/guardian-requests';

// A parent's own request as GET /me/guardian-requests and the bind's 202 carry it.
function myRequest(overrides) {
  return Object.assign(
    {
      id: 9,
      student_number: 'S2026001',
      student_name: '陈同学',
      relation: '母亲',
      status: 'pending',
      status_label: '等待确认',
      created_at: '2026-10-14T02:00:00+00:00',
      expires_at: '2026-10-21T02:00:00+00:00',
      decided_at: null,
    },
    overrides
  );
}

const PENDING = { status: 'pending', message: '申请已提交，孩子或班主任确认后即可绑定', request: myRequest() };

let mock;

beforeEach(() => {
  mock = installWx();
  subscribe.reset();
});

function signedInAs(user) {
  tokens.save(fx.tokens('a', user));
  mock.route('GET', '/api/v1/me', [200, user]);
}

async function openMe() {
  const page = render('pages/me/me');
  await page.instance.onShow();
  return page;
}

async function type(page, id, value) {
  await fire(page.querySelector('#' + id), 'input', { value });
}

async function chooseKind(page, value) {
  await fire(page.querySelector('.kinds'), 'change', { value });
}

async function fillChild(page) {
  await chooseKind(page, 'parent');
  await type(page, 'number', 'S2026001');
  await type(page, 'name', '陈同学');
}

describe('我的', () => {
  test('a bound user sees nickname, Chinese role labels, masked phone and who they are bound as', async () => {
    signedInAs(fx.user({ roles: ['teacher', 'admin'] }));
    const page = await openMe();
    const shown = text(page);

    expect(shown).toContain('张老师');
    expect(shown).toContain('教职工、后勤管理员');
    expect(shown).toContain('138****0001');
    expect(page.querySelector('.identity').dom.textContent).toBe('教职工 张三（T0001） · 语文教研组');
    expect(page.querySelector('.bind-form')).toBeUndefined();
    expect(shown).toContain('退出登录');
  });

  test('a parent sees their children', async () => {
    signedInAs(
      fx.user({
        nickname: '李妈妈',
        roles: ['parent'],
        person: { kind: 'parent', name: '王芳', number: null, department: null, class_name: null },
        children: [{ id: 3, name: '李四', number: 'S2026001', class_name: '高一(1)班' }],
      })
    );
    const page = await openMe();

    expect(text(page)).toContain('我的孩子');
    expect(page.querySelector('.child').dom.textContent.replace(/\s+/g, ' ')).toContain('李四高一(1)班 S2026001');
  });

  test('an unbound user sees the binding form with the three kinds', async () => {
    signedInAs(fx.unbound());
    const page = await openMe();
    const shown = text(page);

    expect(page.querySelector('.bind-form')).toBeTruthy();
    expect(shown).toContain('绑定身份');
    ['教职工', '学生', '家长', '工号', '姓名', '手机号（选填）'].forEach(label => expect(shown).toContain(label));
  });

  test('an empty 工号 shows a Chinese error and sends nothing', async () => {
    signedInAs(fx.unbound());
    const page = await openMe();
    await type(page, 'name', '张三');

    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-number').dom.textContent).toBe('请输入工号');
    expect(page.querySelector('.error-name')).toBeUndefined();
    expect(mock.calls('POST', BIND)).toHaveLength(0);
  });

  test('staff: submits 工号 + 姓名 + phone code and re-renders as bound', async () => {
    signedInAs(fx.unbound());
    mock.route('POST', BIND, [200, fx.user()]);
    mock.route('POST', '/api/v1/auth/refresh', [200, fx.tokens('b')]);
    const page = await openMe();

    await type(page, 'number', 'T0001');
    await type(page, 'name', ' 张三 ');
    await fire(page.querySelector('#phone'), 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' });
    expect(text(page)).toContain('已授权微信手机号');
    await fire(page.querySelector('#submit'));

    expect(mock.calls('POST', BIND).map(r => r.data)).toEqual([{ kind: 'staff', number: 'T0001', name: '张三', phone_code: 'phone-code-1' }]);
    expect(page.querySelector('.bind-form')).toBeUndefined();
    expect(page.querySelector('.identity').dom.textContent).toContain('张三（T0001）');
    expect(tokens.getUser().bound).toBe(true);
    expect(mock.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '绑定成功' }));
    // the access token is rotated so it carries the new roles
    expect(tokens.getAccessToken()).toBe('access-b');
  });

  test('parent: the form asks for the child and sends student_number / student_name', async () => {
    signedInAs(fx.unbound());
    mock.route('POST', BIND, [200, fx.user({ roles: ['parent'] })]);
    const page = await openMe();

    await chooseKind(page, 'parent');
    expect(text(page)).toContain('孩子的学号');
    expect(text(page)).toContain('手机号验证（推荐）'); // parents prove a registered phone here
    await fire(page.querySelector('#submit'));
    expect(page.querySelector('.error-number').dom.textContent).toBe('请输入孩子的学号');
    expect(page.querySelector('.error-name').dom.textContent).toBe('请输入孩子的姓名');

    await type(page, 'number', 'S2026001');
    await type(page, 'name', '李四');
    await fire(page.querySelector('#submit'));

    expect(mock.calls('POST', BIND).map(r => r.data)).toEqual([{ kind: 'parent', student_number: 'S2026001', student_name: '李四' }]);
  });

  test('student: 学号 + 姓名', async () => {
    signedInAs(fx.unbound());
    mock.route('POST', BIND, [200, fx.student()]);
    const page = await openMe();

    await chooseKind(page, 'student');
    await type(page, 'number', 'S2026001');
    await type(page, 'name', '李四');
    await fire(page.querySelector('#submit'));

    expect(mock.calls('POST', BIND)[0].data).toEqual({ kind: 'student', number: 'S2026001', name: '李四' });
  });

  test('a roster miss shows the server message in the form, without a toast', async () => {
    signedInAs(fx.unbound());
    mock.route('POST', BIND, [404, envelope(404, 'users.roster_not_found', '未在花名册中找到此人，请核对工号/学号和姓名')]);
    const page = await openMe();

    await type(page, 'number', 'T9999');
    await type(page, 'name', '无名');
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.form-error').dom.textContent).toBe('未在花名册中找到此人，请核对工号/学号和姓名');
    expect(page.querySelector('.bind-form')).toBeTruthy();
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('a 422 puts the server field errors under their fields', async () => {
    signedInAs(fx.unbound());
    mock.route('POST', BIND, [422, envelope(422, 'validation_error', '提交的信息有误', { json: { name: ['姓名与花名册不一致'] } })]);
    const page = await openMe();

    await type(page, 'number', 'T0001');
    await type(page, 'name', '张3');
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-name').dom.textContent).toBe('姓名与花名册不一致');
    expect(page.querySelector('.form-error').dom.textContent).toBe('提交的信息有误');
  });

  test('already bound elsewhere: reloads and shows the profile', async () => {
    signedInAs(fx.unbound());
    mock.route('POST', BIND, [409, envelope(409, 'users.already_bound', '您已绑定身份')]);
    const page = await openMe();
    mock.route('GET', '/api/v1/me', [200, fx.user()]);

    await type(page, 'number', 'T0001');
    await type(page, 'name', '张三');
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.bind-form')).toBeUndefined();
    expect(text(page)).toContain('张三（T0001）');
  });

  test('logout asks to confirm, revokes the session and shows the signed-out state', async () => {
    signedInAs(fx.user());
    mock.route('POST', '/api/v1/auth/logout', [204, '']);
    const page = await openMe();

    await fire(page.querySelector('#logout'));

    expect(mock.wx.showModal).toHaveBeenCalledTimes(1);
    expect(mock.calls('POST', '/api/v1/auth/logout')[0].data).toEqual({ refresh_token: 'refresh-a' });
    expect(tokens.getAccessToken()).toBeNull();
    expect(text(page)).toContain('已退出登录');
    expect(page.querySelector('#logout')).toBeUndefined();
  });

  test('logout cancelled in the dialog keeps the session', async () => {
    mock = installWx({ confirm: false });
    signedInAs(fx.user());
    const page = await openMe();

    await fire(page.querySelector('#logout'));

    expect(mock.calls('POST', '/api/v1/auth/logout')).toHaveLength(0);
    expect(tokens.getAccessToken()).toBe('access-a');
  });

  test('订阅消息提醒 asks WeChat for every template straight from the tap and reports the answer', async () => {
    signedInAs(fx.user());
    mock.route('GET', '/api/v1/notifications/templates', [
      200,
      [
        { event: 'meetings.reminder', template_id: 'T-MEET', title: '会议提醒' },
        { event: 'notifications.notice', template_id: 'T-NOTICE', title: '后勤通知' },
      ],
    ]);
    mock.route('POST', '/api/v1/notifications/subscriptions', [200, { remaining: { 'T-MEET': 1, 'T-NOTICE': 1 } }]);
    const page = await openMe();
    expect(mock.calls('GET', '/api/v1/notifications/templates')).toHaveLength(1); // loaded before the tap

    await fire(page.querySelector('#subscribe'));

    expect(mock.wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['T-MEET', 'T-NOTICE']);
    expect(mock.calls('POST', '/api/v1/notifications/subscriptions')[0].data).toEqual({ results: { 'T-MEET': 'accept', 'T-NOTICE': 'accept' } });
    expect(mock.toasts()).toContain('已开启消息提醒');
  });

  test('an unbound user has no 订阅消息提醒 and loads no templates', async () => {
    signedInAs(fx.unbound());
    const page = await openMe();

    expect(page.querySelector('#subscribe')).toBeUndefined();
    expect(mock.calls('GET', '/api/v1/notifications/templates')).toHaveLength(0);
  });

  describe('家长绑定', () => {
    test('手机号验证: the phone code and the relation go with the child, and a registered phone binds at once', async () => {
      signedInAs(fx.unbound());
      const parent = fx.user({ nickname: '陈妈妈', roles: ['parent'], person: { kind: 'parent', name: '陈妈妈', number: null, department: null, class_name: null }, children: [{ id: 3, name: '陈同学', number: 'S2026001', class_name: '高一(1)班' }] });
      mock.route('POST', BIND, [200, parent]);
      mock.route('POST', '/api/v1/auth/refresh', [200, fx.tokens('b')]);
      const page = await openMe();

      await fillChild(page);
      await fire(page.querySelector('.relations'), 'change', { value: '母亲' });
      expect(page.querySelector('#submit').dom.textContent).toContain('提交申请');
      await fire(page.querySelector('#phone'), 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' });
      expect(text(page)).toContain('已授权微信手机号');
      expect(page.querySelector('#submit').dom.textContent).toContain('验证并绑定');
      await fire(page.querySelector('#submit'));

      expect(mock.calls('POST', BIND).map(r => r.data)).toEqual([
        { kind: 'parent', student_number: 'S2026001', student_name: '陈同学', phone_code: 'phone-code-1', relation: '母亲' },
      ]);
      expect(page.querySelector('.bind-form')).toBeUndefined();
      expect(page.querySelector('.child').dom.textContent).toContain('陈同学');
      expect(mock.toasts()).toContain('绑定成功');
    });

    test('without a matching phone the request shows as 等待确认, and the form is ready again', async () => {
      signedInAs(fx.unbound());
      mock.route('POST', BIND, [202, PENDING]);
      const page = await openMe();
      expect(page.querySelector('.pending')).toBeUndefined();

      await fillChild(page);
      await fire(page.querySelector('#submit'));

      expect(mock.calls('POST', BIND)[0].data).toEqual({ kind: 'parent', student_number: 'S2026001', student_name: '陈同学' });
      const card = page.querySelector('.pending').dom.textContent.replace(/\s+/g, ' ');
      expect(card).toContain('陈同学（S2026001）');
      expect(card).toContain('等待确认');
      expect(card).toContain('10月21日 10:00 前有效');
      expect(mock.toasts()).toContain('申请已提交，孩子或班主任确认后即可绑定');
      expect(tokens.getUser().bound).toBe(false); // nothing is bound until someone confirms
      expect(page.querySelector('.bind-form')).toBeTruthy();
      expect(page.querySelector('#number').dom.getAttribute('value') || '').toBe('');
    });

    test('my waiting requests are listed on opening; 撤回 asks first, then withdraws', async () => {
      signedInAs(fx.unbound());
      mock.route('GET', MY_REQUESTS, [200, [myRequest(), myRequest({ id: 8, student_number: 'S2026002', student_name: '林同学', relation: null })]]);
      mock.route('POST', MY_REQUESTS + '/9/withdraw', [200, myRequest({ status: 'withdrawn', status_label: '已撤回' })]);
      const page = await openMe();

      expect(mock.calls('GET', MY_REQUESTS)[0].data).toEqual({ status: 'pending' });
      expect(page.querySelectorAll('.pending-item')).toHaveLength(2);
      await fire(page.querySelectorAll('.withdraw')[0]);

      expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '撤回申请' }));
      expect(mock.calls('POST', MY_REQUESTS + '/9/withdraw')).toHaveLength(1);
      expect(page.querySelectorAll('.pending-item')).toHaveLength(1);
      expect(text(page)).toContain('林同学（S2026002）');
      expect(mock.toasts()).toContain('已撤回');
    });

    test('撤回 cancelled in the dialog sends nothing', async () => {
      mock = installWx({ confirm: false });
      signedInAs(fx.unbound());
      mock.route('GET', MY_REQUESTS, [200, [myRequest()]]);
      const page = await openMe();

      await fire(page.querySelector('.withdraw'));

      expect(mock.calls('POST', MY_REQUESTS + '/9/withdraw')).toHaveLength(0);
      expect(page.querySelectorAll('.pending-item')).toHaveLength(1);
    });

    test('a spent or refused phone code is not sent again', async () => {
      signedInAs(fx.unbound());
      mock.route('POST', BIND, [422, envelope(422, 'users.invalid_phone_code', '手机号授权已失效，请重新授权', { phone_code: ['授权已失效'] })]);
      const page = await openMe();

      await fillChild(page);
      await fire(page.querySelector('#phone'), 'getphonenumber', { code: 'phone-code-1', errMsg: 'getPhoneNumber:ok' });
      await fire(page.querySelector('#submit'));

      expect(page.querySelector('.error-phone').dom.textContent).toBe('授权已失效');
      expect(text(page)).toContain('验证微信手机号');
      await fire(page.querySelector('#submit'));
      expect(mock.calls('POST', BIND)[1].data.phone_code).toBeUndefined();
    });

    test('a bound parent binds another child through the same form, without the other kinds', async () => {
      signedInAs(fx.user({ roles: ['parent'], person: { kind: 'parent', name: '陈妈妈', number: null, department: null, class_name: null }, children: [{ id: 3, name: '陈同学', number: 'S2026001', class_name: '高一(1)班' }] }));
      mock.route('POST', BIND, [202, Object.assign({}, PENDING, { request: myRequest({ id: 10, student_number: 'S2026002', student_name: '林同学' }) })]);
      const page = await openMe();
      expect(page.querySelector('.bind-form')).toBeUndefined();

      await fire(page.querySelector('#add-child'));
      expect(page.querySelector('.kinds')).toBeUndefined();
      expect(text(page)).toContain('绑定其他孩子');
      await type(page, 'number', 'S2026002');
      await type(page, 'name', '林同学');
      await fire(page.querySelector('#submit'));

      expect(mock.calls('POST', BIND)[0].data).toEqual({ kind: 'parent', student_number: 'S2026002', student_name: '林同学' });
      expect(page.querySelector('.bind-form')).toBeUndefined();
      expect(page.querySelector('.pending').dom.textContent).toContain('林同学（S2026002）');
    });
  });

  describe('家长绑定申请 (students and class teachers)', () => {
    test('an entry with the number waiting opens the approval list', async () => {
      signedInAs(Object.assign(fx.student(), { student_id: 3, decides_guardians: true, guardian_requests_to_decide: 2 }));
      const page = await openMe();

      const entry = page.querySelector('#guardian-requests');
      expect(entry.dom.textContent).toContain('家长绑定申请');
      expect(page.querySelector('.badge').dom.textContent).toBe('2');
      await fire(entry);
      expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageGuardians/pages/requests/requests' });
    });

    test('no badge when nothing waits; no entry for those who decide nothing', async () => {
      signedInAs(fx.user({ decides_guardians: true, guardian_requests_to_decide: 0 }));
      const teacher = await openMe();
      expect(teacher.querySelector('#guardian-requests')).toBeTruthy();
      expect(teacher.querySelector('.badge')).toBeUndefined();

      signedInAs(fx.worker());
      const worker = await openMe();
      expect(worker.querySelector('#guardian-requests')).toBeUndefined();
    });
  });
});
