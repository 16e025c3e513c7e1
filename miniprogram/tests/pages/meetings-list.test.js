const { show, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const mx = require('../helpers/meetings');

const PAGE = 'packageMeetings/pages/list/list';
const LIST = '/api/v1/meetings';

let mock;

mx.useFrozenDate();

function setup(user) {
  mock = mx.signIn(undefined, user);
  mock.route('GET', LIST, req =>
    req.data.scope === 'organised'
      ? [200, [mx.organised({ id: 8, title: '教研组长会' })]]
      : [200, [mx.meeting(), mx.meeting({ id: 9, title: '全体教职工大会', mine: Object.assign({}, mx.meeting().mine, { checked_in_at: mx.START, late: false }) })]]
  );
  mock.route('GET', '/api/v1/meetings/history', [200, { invited: 10, checked_in: 8, late: 1, excused: 1, absent: 1, rate: 0.8889, meetings: [] }]);
}

const open = () => show(PAGE);

describe('会议签到', () => {
  test('my upcoming meetings with my status, and my term figures', async () => {
    setup();
    const page = await open();

    expect(mock.calls('GET', LIST)[0].data).toEqual({ scope: 'invited', when: 'upcoming', page_size: 50 });
    expect(page.querySelectorAll('.meeting__title').map(t => t.dom.textContent)).toEqual(['语文教研组例会', '全体教职工大会']);
    expect(text(page)).toContain('已签到');
    expect(text(page)).toContain('本学期出勤率 89% · 迟到 1 次');
  });

  test('staff switch to the meetings they organise, and to the past', async () => {
    setup();
    const page = await open();

    await fire(page.querySelectorAll('.tab')[1]);
    expect(mock.calls('GET', LIST)[1].data.scope).toBe('organised');
    expect(text(page)).toContain('教研组长会');
    expect(text(page)).toContain('已签到 12/30');

    await fire(page.querySelectorAll('.when')[1]);
    expect(mock.calls('GET', LIST)[2].data).toEqual({ scope: 'organised', when: 'past', page_size: 50 });
  });

  test('a student sees only 我参加的, and cannot start a meeting', async () => {
    setup(fx.student());
    const page = await open();

    expect(page.querySelectorAll('.tab')).toHaveLength(1);
    expect(page.querySelector('#create')).toBeFalsy();
  });

  test('a parent sees the 家长会 they are invited to, with their status, and no organiser actions', async () => {
    setup(fx.user({ id: 4, roles: ['parent'], person: { kind: 'parent', name: '李家长', number: null, department: null, class_name: null } }));
    mock.route('GET', LIST, [200, [mx.meeting({ id: 31, title: '高一(1)班家长会', organiser: { id: 1, name: '张老师' } })]]);
    const page = await open();

    expect(mock.calls('GET', LIST)[0].data).toEqual({ scope: 'invited', when: 'upcoming', page_size: 50 });
    expect(page.querySelectorAll('.meeting__title').map(t => t.dom.textContent)).toEqual(['高一(1)班家长会']);
    expect(page.querySelectorAll('.tab').map(t => t.dom.textContent)).toEqual(['我参加的']);
    expect(page.querySelector('#create')).toBeFalsy();
    expect(text(page)).not.toContain('请假审批');
    expect(page.querySelector('#scan')).toBeTruthy();

    await fire(page.querySelector('.meeting'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/detail/detail?id=31' });
  });

  test('open, create, and scan', async () => {
    setup();
    const page = await open();

    await fire(page.querySelector('.meeting'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/detail/detail?id=7' });
    await fire(page.querySelector('#create'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/edit/edit' });

    mock.wx.scanCode.mockImplementation(o => o.success({ path: 'packageMeetings/pages/checkin/checkin?scene=m%3DABCD2345' }));
    await fire(page.querySelector('#scan'));
    expect(mock.wx.navigateTo).toHaveBeenLastCalledWith({ url: '/packageMeetings/pages/checkin/checkin?code=ABCD2345' });

    mock.wx.scanCode.mockImplementation(o => o.success({ result: 'https://example.com/' }));
    await fire(page.querySelector('#scan'));
    expect(mock.toasts()).toEqual(['这不是签到码']);
  });

  test('no meetings yet', async () => {
    setup();
    mock.route('GET', LIST, [200, []]);
    const page = await open();

    expect(text(page)).toContain('暂无会议');
  });

  test('more meetings than a page: the next page at the bottom, until the last', async () => {
    setup();
    const all = [];
    for (let i = 60; i >= 1; i -= 1) all.push(mx.meeting({ id: i, title: '会议 ' + i }));
    mock.route('GET', LIST, fx.paged(all, 50));
    const page = await open();
    expect(page.querySelectorAll('.meeting')).toHaveLength(50);

    await page.instance.onReachBottom();
    await page.instance.onReachBottom();

    expect(mock.calls('GET', LIST).map(r => r.data.page)).toEqual([undefined, 2]);
    expect(page.querySelectorAll('.meeting')).toHaveLength(60);
    expect(text(page)).toContain('没有更多了');
  });

  test('a list that cannot load offers a retry; pull-down refresh reloads', async () => {
    setup();
    mock.route('GET', LIST, { fail: 'request:fail' });
    const page = await open();

    expect(text(page)).toContain('加载失败');
    expect(text(page)).toContain('网络不给力，请检查网络后重试');
    mock.route('GET', LIST, [200, [mx.meeting()]]);
    await fire(page.querySelector('#retry'));
    expect(page.querySelectorAll('.meeting')).toHaveLength(1);

    await page.instance.onPullDownRefresh();
    expect(mock.calls('GET', LIST)).toHaveLength(3);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
  });
});

