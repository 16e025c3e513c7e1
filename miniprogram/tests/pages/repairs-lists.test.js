// 维修任务 (workers), 派单调度 (dispatchers), 我的报修 (reporters).
const { installWx, envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');
const subscribe = require('../../services/subscribe');

const TASKS = '/api/v1/repairs/tasks';

let mock;

function setup(options) {
  mock = installWx(options);
  tokens.save(fx.tokens('a', fx.worker()));
  subscribe.reset();
  mock.route('GET', '/api/v1/notifications/templates', [200, fx.templates()]);
  mock.route('POST', '/api/v1/notifications/subscriptions', [200, { remaining: { 'tpl-task': 1 } }]);
}

async function open(path, query) {
  const page = render(path);
  if (page.instance.onLoad) await page.instance.onLoad(query || {});
  await page.instance.onShow();
  await flush();
  return page;
}

function titles(page) {
  return page.querySelectorAll('.item__desc').map(n => n.dom.textContent);
}

describe('维修任务', () => {
  beforeEach(() => setup());

  test('new tasks: mine and the pool; accept takes one and the list reloads', async () => {
    let taken = false;
    mock.route('GET', TASKS, req => {
      if (req.data.tab !== 'new') return [200, []];
      const list = [fx.repair({ id: 5, description: '灯不亮了' }), fx.repair({ id: 6, status: 'submitted', assignee_id: null, pool: true, urgency: 'urgent', overdue: true, description: '水管漏水' })];
      return [200, taken ? list.slice(1) : list];
    });
    mock.route('POST', '/api/v1/repairs/5/accept', () => {
      taken = true;
      return [200, fx.repair({ status: 'accepted' })];
    });
    const page = await open('packageRepairs/pages/tasks/tasks');

    expect(titles(page)).toEqual(['灯不亮了', '水管漏水']);
    expect(mock.calls('GET', TASKS)[0].data).toEqual({ tab: 'new', page: 1, page_size: 20 });
    const pooled = page.querySelectorAll('.task')[1];
    expect(pooled.dom.textContent).toContain('待抢单');
    expect(pooled.dom.textContent).toContain('紧急');
    expect(pooled.dom.textContent).toContain('已超时');
    expect(page.querySelectorAll('.decline')).toHaveLength(1); // a pool task is not mine to decline

    await fire(page.querySelectorAll('.accept')[0]);
    await flush();

    expect(mock.calls('POST', '/api/v1/repairs/5/accept')).toHaveLength(1);
    expect(titles(page)).toEqual(['水管漏水']);
    expect(mock.wx.navigateTo).not.toHaveBeenCalled(); // the button does not also open the task
  });

  test('a pool task someone else took: the 409 is shown and the list refreshed', async () => {
    mock.route('GET', TASKS, [200, [fx.repair({ id: 6, status: 'submitted', pool: true })]]);
    mock.route('POST', '/api/v1/repairs/6/accept', [409, envelope(409, 'repairs.concurrent_change', '已被其他师傅接单')]);
    const page = await open('packageRepairs/pages/tasks/tasks');
    await fire(page.querySelector('.accept'));
    await flush();

    expect(mock.toasts()).toEqual(['已被其他师傅接单']);
    expect(mock.calls('GET', TASKS)).toHaveLength(2);
  });

  test('tabs load their own lists', async () => {
    mock.route('GET', TASKS, req => [200, req.data.tab === 'active' ? [fx.repair({ status: 'in_progress', description: '修空调' })] : []]);
    const page = await open('packageRepairs/pages/tasks/tasks');
    expect(text(page)).toContain('暂无任务');

    await fire(page.querySelector('.tab-active'));
    await flush();

    expect(titles(page)).toEqual(['修空调']);
    expect(page.querySelectorAll('.accept')).toHaveLength(0);
  });

  test('开启新任务提醒 asks WeChat for the task template and reports the consent', async () => {
    mock.route('GET', TASKS, [200, []]);
    const page = await open('packageRepairs/pages/tasks/tasks');
    await flush();
    await fire(page.querySelector('.subscribe'));
    await flush();

    expect(mock.wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['tpl-task']);
    expect(mock.calls('POST', '/api/v1/notifications/subscriptions')[0].data).toEqual({ results: { 'tpl-task': 'accept' } });
    expect(mock.wx.showToast).toHaveBeenLastCalledWith({ title: '已开启新任务提醒', icon: 'success' });
  });

  test('a declined consent is reported too, and said plainly', async () => {
    setup({ subscribe: 'reject' });
    mock.route('GET', TASKS, [200, []]);
    const page = await open('packageRepairs/pages/tasks/tasks');
    await flush();
    await fire(page.querySelector('.subscribe'));
    await flush();

    expect(mock.calls('POST', '/api/v1/notifications/subscriptions')[0].data).toEqual({ results: { 'tpl-task': 'reject' } });
    expect(mock.wx.showToast).toHaveBeenLastCalledWith({ title: '未开启提醒', icon: 'none' });
  });
});

describe('派单调度', () => {
  beforeEach(() => setup());

  test('overdue first as the server orders it, flagged; filters change the query', async () => {
    mock.route('GET', '/api/v1/repairs/queue', [200, [
      fx.repair({ id: 3, overdue: true, description: '漏水' }),
      fx.repair({ id: 4, status: 'submitted', assignee_name: null, description: '网络断了' }),
    ]]);
    const page = await open('packageRepairs/pages/queue/queue');

    const items = page.querySelectorAll('.queue-item');
    expect(items.map(i => i.dom.textContent.indexOf('已超时') >= 0)).toEqual([true, false]);
    expect(items[1].dom.textContent).toContain('未派单');
    await fire(page.querySelector('.filter-overdue'));
    await fire(page.querySelector('.filter-unassigned'));

    expect(mock.calls('GET', '/api/v1/repairs/queue').map(r => r.data)).toEqual([
      { page: 1, page_size: 20 },
      { page: 1, page_size: 20, overdue: true },
      { page: 1, page_size: 20, overdue: true, unassigned: true },
    ]);
    await fire(items[0]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=3' });
  });
});

describe('我的报修', () => {
  beforeEach(() => setup());

  test('my reports with status; a linked one says so', async () => {
    mock.route('GET', '/api/v1/repairs/mine', [200, [fx.repair({ id: 9, linked: true, status: 'in_progress', status_label: '维修中' }), fx.repair()]]);
    const page = await open('packageRepairs/pages/mine/mine');

    expect(page.querySelectorAll('.status').map(s => s.dom.textContent)).toEqual(['维修中', '待接单']);
    expect(page.querySelectorAll('.item')[0].dom.textContent).toContain('已关联他人报修');
    expect(page.querySelectorAll('.item')[0].dom.textContent).toContain('行政楼 3F 301');
  });

  test('nothing yet: an invitation to report', async () => {
    mock.route('GET', '/api/v1/repairs/mine', [200, []]);
    const page = await open('packageRepairs/pages/mine/mine');

    expect(text(page)).toContain('还没有报修记录');
    await fire(page.querySelector('.btn'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/report/report' });
  });
});
