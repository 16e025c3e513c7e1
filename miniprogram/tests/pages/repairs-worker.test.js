const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');
const subscribe = require('../../services/subscribe');

const TASKS = '/api/v1/repairs/tasks';
let mock;

beforeEach(() => {
  mock = installWx();
  subscribe.reset();
  tokens.save(fx.tokens('w', fx.worker()));
});

async function openTasks(tasks) {
  mock.route('GET', TASKS, req => [200, tasks[req.data.tab] || [], fx.paginationHeader(1, 1, (tasks[req.data.tab] || []).length)]);
  const page = render('packageRepairs/pages/tasks/tasks');
  await page.instance.onLoad({});
  return page;
}

describe('维修任务', () => {
  test('tabs ask for new / active / done tasks', async () => {
    const page = await openTasks({
      new: [fx.repairSummary({ id: 5, overdue: true }), fx.repairSummary({ id: 6, status: 'submitted', pool: true, assignee_id: null })],
      active: [fx.repairSummary({ id: 7, status: 'in_progress' })],
    });

    expect(mock.calls('GET', TASKS)[0].data).toEqual({ tab: 'new', page: 1, page_size: 20 });
    expect(page.querySelectorAll('.task')).toHaveLength(2);
    expect(page.querySelectorAll('.task__overdue')).toHaveLength(1);
    expect(text(page)).toContain('抢单');
    // a pool task cannot be declined, an assigned one can
    expect(page.querySelectorAll('.act--accept')).toHaveLength(2);
    expect(page.querySelectorAll('.act--decline')).toHaveLength(1);

    await fire(page.querySelectorAll('.tabs__item')[1]);
    expect(mock.calls('GET', TASKS)[1].data.tab).toBe('active');
    expect(page.querySelectorAll('.task')).toHaveLength(1);
    expect(page.querySelectorAll('.act--hold')).toHaveLength(1);
    expect(page.querySelectorAll('.act--complete')).toHaveLength(1);

    await fire(page.querySelectorAll('.tabs__item')[2]);
    expect(mock.calls('GET', TASKS)[2].data.tab).toBe('done');
    expect(text(page)).toContain('暂无任务');
  });

  test('accept: the task moves on and the list reloads', async () => {
    mock.route('POST', '/api/v1/repairs/5/accept', [200, fx.repair({ status: 'accepted' })]);
    const page = await openTasks({ new: [fx.repairSummary({ id: 5 })] });

    await fire(page.querySelector('.act--accept'));

    expect(mock.calls('POST', '/api/v1/repairs/5/accept')).toHaveLength(1);
    expect(mock.toasts()).toEqual(['已接单']);
    expect(mock.calls('GET', TASKS)).toHaveLength(2);
  });

  test('accept that someone else won (409) shows the envelope message and reloads', async () => {
    mock.route('POST', '/api/v1/repairs/6/accept', [409, envelope(409, 'repairs.concurrent_change', '报修单已被他人处理，请刷新后重试')]);
    const page = await openTasks({ new: [fx.repairSummary({ id: 6, status: 'submitted', pool: true })] });

    await fire(page.querySelector('.act--accept'));

    expect(mock.toasts()).toEqual(['报修单已被他人处理，请刷新后重试']);
    expect(mock.calls('GET', TASKS)).toHaveLength(2);
  });

  test('decline needs a reason', async () => {
    mock.route('POST', '/api/v1/repairs/5/decline', [200, fx.repair({ status: 'submitted' })]);
    const page = await openTasks({ new: [fx.repairSummary({ id: 5 })] });

    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '' }), 0));
    await fire(page.querySelector('.act--decline'));
    expect(mock.toasts()).toEqual(['请填写原因']);
    expect(mock.calls('POST', '/api/v1/repairs/5/decline')).toHaveLength(0);

    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '不在我的片区' }), 0));
    await fire(page.querySelector('.act--decline'));
    expect(mock.calls('POST', '/api/v1/repairs/5/decline')[0].data).toEqual({ reason: '不在我的片区' });
  });

  test('start, hold with a reason, resume', async () => {
    mock.route('POST', '/api/v1/repairs/7/start', [200, fx.repair()]);
    mock.route('POST', '/api/v1/repairs/8/hold', [200, fx.repair()]);
    mock.route('POST', '/api/v1/repairs/9/resume', [200, fx.repair()]);
    const page = await openTasks({ active: [] });
    mock.route('GET', TASKS, [200, [fx.repairSummary({ id: 7, status: 'accepted' }), fx.repairSummary({ id: 8, status: 'in_progress' }), fx.repairSummary({ id: 9, status: 'on_hold' })]]);
    await page.instance.reload();

    await fire(page.querySelector('.act--start'));
    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '等配件' }), 0));
    await fire(page.querySelector('.act--hold'));
    await fire(page.querySelector('.act--resume'));

    expect(mock.calls('POST', '/api/v1/repairs/7/start')).toHaveLength(1);
    expect(mock.calls('POST', '/api/v1/repairs/8/hold')[0].data).toEqual({ reason: '等配件' });
    expect(mock.calls('POST', '/api/v1/repairs/9/resume')).toHaveLength(1);
  });

  test('开启新任务提醒 asks for the task template from the tap', async () => {
    mock.route('GET', '/api/v1/notifications/templates', [200, [{ event: 'repairs.task', template_id: 'tpl-task', title: '维修任务提醒' }, { event: 'repairs.status', template_id: 'tpl-status', title: '报修进度通知' }]]);
    mock.route('POST', '/api/v1/notifications/subscriptions', [200, { remaining: { 'tpl-task': 1 } }]);
    await subscribe.preload();
    const page = await openTasks({});

    await fire(page.querySelector('#subscribe'));

    expect(mock.wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: ['tpl-task'] }));
    expect(mock.toasts()).toEqual(['已开启新任务提醒']);
  });
});

describe('维修完成', () => {
  const MATERIALS = [
    { id: 1, name: 'LED 灯管 T8 1.2m', unit: '根', unit_cost_fen: 2500, active: true },
    { id: 3, name: 'PPR 水管 20mm', unit: '米', unit_cost_fen: 600, active: true },
  ];

  async function openComplete() {
    mock.route('GET', '/api/v1/repairs/materials', [200, MATERIALS]);
    const page = render('packageRepairs/pages/complete/complete');
    await page.instance.onLoad({ id: '5' });
    return page;
  }

  test('materials with quantities, labour minutes and an after-photo are sent', async () => {
    mock.route('POST', '/api/v1/repairs/5/complete', [200, fx.repair({ status: 'completed' })]);
    mock.autoUpload(() => [201, { id: 90 }]);
    const page = await openComplete();

    await fire(page.querySelector('#submit'));
    expect(page.querySelector('.error-labour').dom.textContent).toBe('请填写工时');

    await fire(page.querySelector('#add-material'));
    await fire(page.querySelectorAll('.material')[0]);
    await fire(page.querySelector('#add-material'));
    await fire(page.querySelectorAll('.material')[1]);
    page.instance.onQuantity({ currentTarget: { dataset: { index: 1 } }, detail: { value: '2.5' } });
    expect(page.querySelector('.total').dom.textContent).toBe('¥40.00');
    mock.chooseMedia(['tmp/after.jpg']);
    await fire(page.querySelector('.photo--add'));
    page.instance.setData({ labourMinutes: '45' });

    await fire(page.querySelector('#submit'));

    expect(mock.calls('POST', '/api/v1/repairs/5/complete')[0].data).toEqual({
      labour_minutes: 45,
      materials: [
        { material_id: 1, quantity: '1' },
        { material_id: 3, quantity: '2.5' },
      ],
      photo_ids: [90],
    });
    expect(mock.wx.navigateBack).toHaveBeenCalled();
  });

  test('a bad quantity is refused', async () => {
    const page = await openComplete();
    await fire(page.querySelector('#add-material'));
    await fire(page.querySelectorAll('.material')[0]);
    page.instance.onQuantity({ currentTarget: { dataset: { index: 0 } }, detail: { value: '0' } });
    page.instance.setData({ labourMinutes: '30' });

    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-materials').dom.textContent).toBe('材料数量应大于0，最多两位小数');
    expect(mock.calls('POST', '/api/v1/repairs/5/complete')).toHaveLength(0);
  });
});
