const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packageAdmin/pages/deliveries/deliveries';
const LIST = '/api/v1/admin/notifications';

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a', fx.user({ roles: ['admin', 'teacher'] })));
});

async function openDeliveries() {
  const page = render(PAGE);
  await page.instance.onLoad({});
  return page;
}

const rows = page => page.querySelectorAll('.delivery');
const titles = page => page.querySelectorAll('.delivery__title').map(t => t.dom.textContent);

// A server-side list of dead deliveries that retries take out, paginated like the API.
function deadDeliveries(n) {
  const dead = [];
  for (let i = n; i >= 1; i -= 1) dead.push(fx.delivery({ id: i, title: '消息 ' + i }));
  mock.route('GET', LIST, fx.paged(dead));
  return dead;
}

function retrying(dead) {
  dead.forEach(d => {
    mock.route('POST', '/api/v1/admin/notifications/' + d.id + '/retry', () => {
      dead.splice(dead.indexOf(d), 1);
      return [200, Object.assign({}, d, { status: 'pending', attempts: 0 })];
    });
  });
}

describe('投递失败的消息', () => {
  test('lists dead deliveries with channel, error and attempts', async () => {
    mock.route('GET', LIST, [
      200,
      [fx.delivery({ id: 32, channel: 'wecom', title: '报修已派单', last_error: 'WeComError 60111', attempts: 1 }), fx.delivery()],
      fx.paginationHeader(1, 1, 2),
    ]);
    const page = await openDeliveries();

    expect(mock.calls('GET', LIST)[0].data).toEqual({ status: 'dead', page: 1, page_size: 20 });
    expect(titles(page)).toEqual(['报修已派单', '明日停水通知']);
    expect(page.querySelectorAll('.delivery__channel').map(t => t.dom.textContent)).toEqual(['企业微信', '订阅消息']);
    expect(page.querySelectorAll('.delivery__error').map(t => t.dom.textContent)).toEqual(['WeComError 60111', 'WeChatError 43101']);
    expect(text(page)).toContain('用户 #12 · 已尝试 5 次');
    expect(text(page)).toContain('共 2 条');
    expect(text(page)).toContain('没有更多了');
  });

  test('nothing dead: an empty state', async () => {
    mock.route('GET', LIST, [200, [], fx.paginationHeader(1, 0, 0)]);
    const page = await openDeliveries();
    expect(text(page)).toContain('暂无投递失败的消息');
  });

  test('重试 asks to confirm, retries, and takes the row out of the list', async () => {
    retrying(deadDeliveries(2));
    const page = await openDeliveries();

    await fire(page.querySelectorAll('.retry')[0]);

    expect(mock.wx.showModal).toHaveBeenCalledTimes(1);
    expect(mock.calls('POST', '/api/v1/admin/notifications/2/retry')).toHaveLength(1);
    expect(titles(page)).toEqual(['消息 1']);
    expect(text(page)).toContain('共 1 条');
    expect(mock.toasts()).toEqual(['已加入重发队列']);
  });

  test('a delivery that is no longer dead (409) shows the server message and stays', async () => {
    deadDeliveries(1);
    mock.route('POST', '/api/v1/admin/notifications/1/retry', [
      409,
      envelope(409, 'notification_delivery.invalid_transition', '该消息当前状态不能重试'),
    ]);
    const page = await openDeliveries();

    await fire(page.querySelector('.retry'));

    expect(mock.toasts()).toEqual(['该消息当前状态不能重试']);
    expect(titles(page)).toEqual(['消息 1']);
  });

  test('cancelled in the dialog: nothing is retried', async () => {
    mock = installWx({ confirm: false });
    tokens.save(fx.tokens('a'));
    deadDeliveries(1);
    const page = await openDeliveries();

    await fire(page.querySelector('.retry'));

    expect(mock.requests.filter(r => r.method === 'POST')).toHaveLength(0);
    expect(rows(page)).toHaveLength(1);
  });

  test('reaching the bottom loads the next page, until the last one', async () => {
    deadDeliveries(25);
    const page = await openDeliveries();
    expect(rows(page)).toHaveLength(20);

    await page.instance.onReachBottom();
    await page.instance.onReachBottom();

    expect(mock.calls('GET', LIST).map(r => r.data.page)).toEqual([1, 2]);
    expect(rows(page)).toHaveLength(25);
    expect(titles(page)[24]).toBe('消息 1');
  });

  test('after a retry the next load still reaches the rows that moved up a page', async () => {
    const dead = deadDeliveries(25);
    retrying(dead);
    const page = await openDeliveries();

    await fire(page.querySelectorAll('.retry')[0]); // 消息 25 leaves: 消息 5 is now on page 1
    await page.instance.onReachBottom();
    await page.instance.onReachBottom();

    expect(mock.calls('GET', LIST).map(r => r.data.page)).toEqual([1, 1, 2]);
    expect(rows(page)).toHaveLength(24);
    expect(new Set(titles(page)).size).toBe(24);
    expect(titles(page)).not.toContain('消息 25');
  });

  test('pull-down refresh reloads and stops the spinner', async () => {
    deadDeliveries(1);
    const page = await openDeliveries();

    await page.instance.onPullDownRefresh();

    expect(mock.calls('GET', LIST)).toHaveLength(2);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
  });
});
