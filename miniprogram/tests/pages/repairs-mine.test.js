const { installWx } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a'));
});

describe('我的报修', () => {
  test('lists my reports with Chinese status labels and the overdue flag; a row opens the detail', async () => {
    mock.route('GET', '/api/v1/repairs/mine', [
      200,
      [
        fx.repairSummary({ id: 6, status: 'in_progress', overdue: true, description: '水管漏水' }),
        fx.repairSummary({ id: 5, status: 'completed' }),
        fx.repairSummary({ id: 4, status: 'submitted', assignee_id: null, assignee_name: null, linked: true }),
      ],
      fx.paginationHeader(1, 1, 3),
    ]);
    const page = render('packageRepairs/pages/mine/mine');
    await page.instance.onLoad({});

    expect(mock.calls('GET', '/api/v1/repairs/mine')[0].data).toEqual({ page: 1, page_size: 20 });
    expect(page.querySelectorAll('.repair__status').map(n => n.dom.textContent)).toEqual(['维修中', '待确认', '待派单']);
    expect(page.querySelectorAll('.repair__overdue')).toHaveLength(1);
    expect(text(page)).toContain('已关联');
    expect(text(page)).toContain('没有更多了');

    await fire(page.querySelectorAll('.repair')[1]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=5' });
  });

  test('the next page loads at the bottom', async () => {
    const all = [];
    for (let i = 25; i >= 1; i -= 1) all.push(fx.repairSummary({ id: i }));
    mock.route('GET', '/api/v1/repairs/mine', req => [200, all.slice((req.data.page - 1) * 20, req.data.page * 20), fx.paginationHeader(req.data.page, 2, 25)]);
    const page = render('packageRepairs/pages/mine/mine');
    await page.instance.onLoad({});
    await page.instance.onReachBottom();

    expect(page.querySelectorAll('.repair')).toHaveLength(25);
  });

  test('nothing reported yet', async () => {
    mock.route('GET', '/api/v1/repairs/mine', [200, [], fx.paginationHeader(1, 0, 0)]);
    const page = render('packageRepairs/pages/mine/mine');
    await page.instance.onLoad({});
    expect(text(page)).toContain('还没有报修');
  });
});

describe('报修详情', () => {
  async function openDetail(repair) {
    mock.route('GET', '/api/v1/repairs/' + repair.id, [200, repair]);
    const page = render('packageRepairs/pages/detail/detail');
    await page.instance.onLoad({ id: String(repair.id) });
    return page;
  }

  test('shows photos through the signed URLs, deadlines and the timeline, newest first', async () => {
    const page = await openDetail(fx.repair());

    expect(page.querySelector('.detail__status').dom.textContent).toBe('待接单');
    expect(page.querySelectorAll('.detail__photo')).toHaveLength(1);
    expect(page.instance.data.repair.photos[0].thumb).toBe('http://api.test/api/v1/repairs/photo-files/thumb7');
    expect(page.querySelectorAll('.timeline__label').map(n => n.dom.textContent)).toEqual(['派单', '提交报修']);
    expect(text(page)).toContain('派给李师傅');
    expect(text(page)).toContain('→ 待接单');
    expect(text(page)).toContain('接单');
    expect(page.querySelectorAll('.action').map(n => n.dom.textContent)).toEqual(['取消报修']);

    await fire(page.querySelector('.detail__photo'));
    expect(mock.wx.previewImage).toHaveBeenCalledWith({
      current: 'http://api.test/api/v1/repairs/photo-files/full7',
      urls: ['http://api.test/api/v1/repairs/photo-files/full7'],
    });
  });

  test('a foreign repair is the same 404 as none', async () => {
    mock.route('GET', '/api/v1/repairs/99', [404, { error_code: 'repairs.not_found', message: '报修单不存在' }]);
    const page = render('packageRepairs/pages/detail/detail');
    await page.instance.onLoad({ id: '99' });
    expect(text(page)).toContain('报修单不存在或无权查看');
  });

  test('confirm and rate: stars are required, then rating, tags and comment are sent', async () => {
    const completed = fx.repair({ status: 'completed', actions: ['confirm', 'reopen'], labour_minutes: 30, material_cost_fen: 2500, materials: [{ material_id: 1, name: 'LED 灯管 T8 1.2m', unit: '根', quantity: '1.00', unit_cost_fen: 2500, cost_fen: 2500 }] });
    mock.route('GET', '/api/v1/repairs/rating-tags', [200, { tags: ['响应及时', '技术专业', '态度友好'] }]);
    mock.route('POST', '/api/v1/repairs/5/confirm', [200, fx.repair({ status: 'confirmed', actions: ['reopen'], rating: { stars: 4, tags: ['技术专业'], comment: '很快', auto: false, rated_at: '2026-11-21T01:00:00+00:00' } })]);
    const page = await openDetail(completed);
    await fire(page.querySelector('.page'), 'noop');

    expect(text(page)).toContain('LED 灯管 T8 1.2m × 1.00根');
    expect(text(page)).toContain('¥25.00');
    expect(page.querySelectorAll('.rate__tag').map(n => n.dom.textContent)).toEqual(['响应及时', '技术专业', '态度友好']);

    await fire(page.querySelector('#confirm'));
    expect(page.querySelector('.rating-error').dom.textContent).toBe('请选择评分');
    expect(mock.calls('POST', '/api/v1/repairs/5/confirm')).toHaveLength(0);

    await fire(page.querySelectorAll('.star')[3]);
    await fire(page.querySelectorAll('.rate__tag')[1]);
    page.instance.setData({ comment: ' 很快 ' });
    await fire(page.querySelector('#confirm'));

    expect(mock.calls('POST', '/api/v1/repairs/5/confirm')[0].data).toEqual({ rating: 4, tags: ['技术专业'], comment: '很快' });
    expect(page.querySelector('.detail__status').dom.textContent).toBe('已完成');
    expect(page.querySelector('.rating__stars').dom.textContent).toContain('★★★★☆');
    expect(page.querySelectorAll('.rate')).toHaveLength(0);
    expect(page.querySelectorAll('.action').map(n => n.dom.textContent)).toEqual(['没修好，重新报修']);
  });

  test('reopen needs a reason', async () => {
    mock.route('POST', '/api/v1/repairs/5/reopen', [200, fx.repair({ status: 'submitted', actions: ['cancel'] })]);
    const page = await openDetail(fx.repair({ status: 'confirmed', actions: ['reopen'] }));

    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '  ' }), 0));
    await fire(page.querySelector('.action--reopen'));
    expect(mock.toasts()).toEqual(['请填写原因']);
    expect(mock.calls('POST', '/api/v1/repairs/5/reopen')).toHaveLength(0);

    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '灯又不亮了' }), 0));
    await fire(page.querySelector('.action--reopen'));
    expect(mock.calls('POST', '/api/v1/repairs/5/reopen')[0].data).toEqual({ reason: '灯又不亮了' });
    expect(page.querySelector('.detail__status').dom.textContent).toBe('待派单');
  });

  test('cancel: the reason is optional', async () => {
    mock.route('POST', '/api/v1/repairs/5/cancel', [200, fx.repair({ status: 'cancelled', actions: [] })]);
    const page = await openDetail(fx.repair());
    mock.wx.showModal.mockImplementationOnce(o => setTimeout(() => o.success({ confirm: true, content: '' }), 0));

    await fire(page.querySelector('.action--cancel'));

    expect(mock.calls('POST', '/api/v1/repairs/5/cancel')[0].data).toEqual({});
    expect(page.querySelector('.detail__status').dom.textContent).toBe('已取消');
    expect(page.querySelectorAll('.action')).toHaveLength(0);
  });

  test('the assigned worker starts, and 维修完成 opens the completion page', async () => {
    mock.route('POST', '/api/v1/repairs/5/start', [200, fx.repair({ status: 'in_progress', actions: ['add_photos', 'complete', 'hold'] })]);
    const page = await openDetail(fx.repair({ status: 'accepted', actions: ['start'] }));

    await fire(page.querySelector('.action--start'));
    expect(page.querySelectorAll('.action').map(n => n.dom.textContent)).toEqual(['维修完成', '暂停']);

    await fire(page.querySelector('.action--complete'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/complete/complete?id=5' });
  });
});
