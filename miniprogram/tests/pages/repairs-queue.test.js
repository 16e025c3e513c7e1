const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const QUEUE = '/api/v1/repairs/queue';
const WORKERS = [
  { user_id: 2, name: '李师傅', open_count: 1, groups: [{ id: 1, name: '综合维修组', on_duty: true }] },
  { user_id: 8, name: '王师傅', open_count: 3, groups: [{ id: 1, name: '综合维修组', on_duty: false }] },
];
let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('d', fx.user({ id: 4, roles: ['dispatcher'] })));
  mock.route('GET', '/api/v1/repairs/workers', [200, WORKERS]);
});

async function openQueue(items) {
  mock.route('GET', QUEUE, [200, items, fx.paginationHeader(1, 1, items.length)]);
  const page = render('packageRepairs/pages/queue/queue');
  await page.instance.onLoad({});
  return page;
}

describe('派单调度', () => {
  test('the queue in the API order, overdue ones badged; filters ask the API', async () => {
    const page = await openQueue([
      fx.repairSummary({ id: 3, status: 'submitted', overdue: true, assignee_id: null, assignee_name: null }),
      fx.repairSummary({ id: 4, status: 'accepted', urgency: 'urgent' }),
    ]);

    expect(page.querySelectorAll('.queued').map(n => n.dom.textContent.indexOf('超时') >= 0)).toEqual([true, false]);
    expect(page.querySelectorAll('.queued__overdue')).toHaveLength(1);
    expect(page.querySelectorAll('.assign')).toHaveLength(1);
    expect(page.querySelectorAll('.transfer')).toHaveLength(1);
    expect(text(page)).toContain('共 2 条');

    await fire(page.querySelectorAll('.tabs__item')[1]);
    expect(mock.calls('GET', QUEUE)[1].data).toEqual({ page: 1, page_size: 20, overdue: true });
    await fire(page.querySelectorAll('.tabs__item')[2]);
    expect(mock.calls('GET', QUEUE)[2].data).toEqual({ page: 1, page_size: 20, unassigned: true });
  });

  test('派单: pick a worker (least busy first, with groups), the repair is assigned and the queue reloads', async () => {
    mock.route('POST', '/api/v1/repairs/3/assign', [200, fx.repair({ id: 3, status: 'assigned' })]);
    const page = await openQueue([fx.repairSummary({ id: 3, status: 'submitted', assignee_id: null, assignee_name: null })]);

    await fire(page.querySelector('.assign'));
    expect(text(page)).toContain('派单给');
    expect(page.querySelectorAll('.worker').map(n => n.dom.textContent.replace(/\s+/g, ' ').trim())).toEqual([
      '李师傅综合维修组进行中 1',
      '王师傅综合维修组（休）进行中 3',
    ]);

    await fire(page.querySelectorAll('.worker')[0]);

    expect(mock.calls('POST', '/api/v1/repairs/3/assign')[0].data).toEqual({ worker_id: 2 });
    expect(mock.toasts()).toEqual(['已派单']);
    expect(page.querySelectorAll('.worker')).toHaveLength(0);
    expect(mock.calls('GET', QUEUE)).toHaveLength(2);
  });

  test('转派 an accepted repair; a 409 shows the server message', async () => {
    mock.route('POST', '/api/v1/repairs/4/transfer', [409, envelope(409, 'repairs.invalid_transition', '报修单当前状态不允许此操作')]);
    const page = await openQueue([fx.repairSummary({ id: 4, status: 'accepted' })]);

    await fire(page.querySelector('.transfer'));
    await fire(page.querySelectorAll('.worker')[1]);

    expect(mock.calls('POST', '/api/v1/repairs/4/transfer')[0].data).toEqual({ worker_id: 8 });
    expect(mock.toasts()).toEqual(['报修单当前状态不允许此操作']);
  });

  test('调为紧急 reprioritises with an optional reason', async () => {
    mock.route('POST', '/api/v1/repairs/4/reprioritise', [200, fx.repair({ id: 4, urgency: 'urgent' })]);
    const page = await openQueue([fx.repairSummary({ id: 4, status: 'accepted' })]);
    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '影响上课' }), 0));

    await fire(page.querySelector('.reprioritise'));

    expect(mock.calls('POST', '/api/v1/repairs/4/reprioritise')[0].data).toEqual({ urgency: 'urgent', reason: '影响上课' });
  });
});
