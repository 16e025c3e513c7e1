const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packageAdmin/pages/notice/notice';
const NOTICES = '/api/v1/admin/notices';

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a', fx.user({ roles: ['admin', 'teacher'] })));
});

async function type(page, id, value) {
  await fire(page.querySelector('#' + id), 'input', { value });
}

async function fill(page, form) {
  if (form.title !== undefined) await type(page, 'title', form.title);
  if (form.body !== undefined) await type(page, 'body', form.body);
  if (form.roles) await fire(page.querySelector('.roles'), 'change', { value: form.roles });
  if (form.urgent) await fire(page.querySelector('#urgent'), 'change', { value: true });
}

const errorText = (page, field) => {
  const node = page.querySelector('.error-' + field);
  return node ? node.dom.textContent : '';
};

describe('发布通知', () => {
  test('role checkboxes carry the Chinese role labels', () => {
    const page = render(PAGE);
    const labels = page.querySelectorAll('.role').map(r => r.dom.textContent.trim());

    expect(labels).toEqual(['教职工', '学生', '家长', '维修工', '报修调度', '食堂', '快递员', '财务', '后勤管理员']);
  });

  test('an empty form shows Chinese errors and sends nothing', async () => {
    const page = render(PAGE);

    await fire(page.querySelector('#submit'));

    expect(errorText(page, 'title')).toBe('请输入通知标题');
    expect(errorText(page, 'body')).toBe('请输入通知内容');
    expect(errorText(page, 'roles')).toBe('请选择通知对象');
    expect(mock.wx.showModal).not.toHaveBeenCalled();
    expect(mock.requests).toHaveLength(0);
  });

  test('a title over 40 characters and a body over 500 are refused', async () => {
    const page = render(PAGE);
    await fill(page, { title: '停'.repeat(41), body: '水'.repeat(501), roles: ['teacher'] });

    await fire(page.querySelector('#submit'));

    expect(errorText(page, 'title')).toBe('标题不能超过40个字');
    expect(errorText(page, 'body')).toBe('内容不能超过500个字');
    expect(errorText(page, 'roles')).toBe('');
    expect(mock.requests).toHaveLength(0);
  });

  test('confirms with the number of role groups, sends, and shows how many people it reached', async () => {
    mock.route('POST', NOTICES, [201, { recipients: 128 }]);
    const page = render(PAGE);
    await fill(page, { title: ' 明日停水通知 ', body: '明天 8:00-12:00 行政楼停水检修', roles: ['teacher', 'student'], urgent: true });

    await fire(page.querySelector('#submit'));

    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: '将通知 2 类人员，确定发送？' }));
    expect(mock.calls('POST', NOTICES).map(r => r.data)).toEqual([
      { title: '明日停水通知', body: '明天 8:00-12:00 行政楼停水检修', roles: ['teacher', 'student'], urgency: 'urgent' },
    ]);
    expect(page.querySelector('.result__text').dom.textContent).toBe('已发送给 128 人');
    expect(page.instance.data.form).toEqual({ title: '', body: '', roles: [], urgent: false });
    expect(mock.toasts()).toEqual(['已发送']);
  });

  test('a normal notice sends urgency normal', async () => {
    mock.route('POST', NOTICES, [201, { recipients: 3 }]);
    const page = render(PAGE);
    await fill(page, { title: '放假安排', body: '国庆放假七天', roles: ['parent'] });

    await fire(page.querySelector('#submit'));

    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: '将通知 1 类人员，确定发送？' }));
    expect(mock.calls('POST', NOTICES)[0].data.urgency).toBe('normal');
  });

  test('cancelled in the dialog: nothing is sent', async () => {
    mock = installWx({ confirm: false });
    tokens.save(fx.tokens('a'));
    const page = render(PAGE);
    await fill(page, { title: '放假安排', body: '国庆放假七天', roles: ['parent'] });

    await fire(page.querySelector('#submit'));

    expect(mock.wx.showModal).toHaveBeenCalledTimes(1);
    expect(mock.requests).toHaveLength(0);
    expect(page.querySelector('.result__text')).toBeUndefined();
  });

  test('a 422 puts the server messages under their fields, without a toast', async () => {
    mock.route('POST', NOTICES, [
      422,
      envelope(422, 'validation_error', '提交的信息有误', { json: { title: ['标题过长'], roles: { 0: ['未知的角色'] } } }),
    ]);
    const page = render(PAGE);
    await fill(page, { title: '放假安排', body: '国庆放假七天', roles: ['teacher'] });

    await fire(page.querySelector('#submit'));

    expect(errorText(page, 'title')).toBe('标题过长');
    expect(errorText(page, 'roles')).toBe('未知的角色');
    expect(page.querySelector('.form-error').dom.textContent).toBe('提交的信息有误');
    expect(page.querySelector('.result__text')).toBeUndefined();
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('a non-admin sees the refusal in the form', async () => {
    mock.route('POST', NOTICES, [403, envelope(403, 'forbidden', '没有权限进行此操作')]);
    const page = render(PAGE);
    await fill(page, { title: '放假安排', body: '国庆放假七天', roles: ['teacher'] });

    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.form-error').dom.textContent).toBe('没有权限进行此操作');
  });

  test('links to the failed deliveries', async () => {
    const page = render(PAGE);
    expect(text(page)).toContain('投递失败的消息');

    await fire(page.querySelector('#deliveries'));

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageAdmin/pages/deliveries/deliveries' });
  });
});
