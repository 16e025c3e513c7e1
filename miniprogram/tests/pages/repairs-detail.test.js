const { installWx, envelope, flush, BASE } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packageRepairs/pages/detail/detail';
const URL = '/api/v1/repairs/5';

let mock;

function setup(repair, options) {
  mock = installWx(options);
  tokens.save(fx.tokens('a'));
  mock.route('GET', URL, [200, repair]);
  mock.route('GET', '/api/v1/repairs/rating-tags', [200, { tags: ['响应及时', '技术专业', '没修好'] }]);
}

async function open() {
  const page = render(PAGE);
  await page.instance.onLoad({ id: '5' });
  await flush();
  return page;
}

function buttons(page) {
  return page.querySelectorAll('.action').map(b => b.dom.textContent.trim());
}

describe('报修详情', () => {
  test('the reporter sees place, photos (full URLs), deadlines and the timeline', async () => {
    setup(fx.repair());
    const page = await open();
    const shown = text(page);

    expect(page.querySelector('.status').dom.textContent).toBe('待接单');
    expect(page.querySelector('.place').dom.textContent).toBe('东校区 › 行政楼 › 3F › 301');
    expect(page.querySelector('.assignee').dom.textContent).toBe('李师傅');
    expect(page.instance.data.repair.reportPhotos.map(p => p.thumb)).toEqual([BASE + '/api/v1/repairs/photo-files/thumb-7']);
    expect(page.querySelectorAll('.deadline').map(d => d.dom.textContent.replace(/\s+/g, ''))).toEqual([
      '接单（11月23日09:30前）进行中', '到场（11月24日09:00前）进行中', '完成（11月26日09:00前）进行中']);
    expect(shown).toContain('提交报修');
    expect(shown).toContain('系统：派给李师傅');
    expect(buttons(page)).toEqual(['补充照片', '取消报修']);

    await fire(page.querySelector('.report-photo'));
    expect(mock.wx.previewImage).toHaveBeenCalledWith({ urls: [BASE + '/api/v1/repairs/photo-files/full-7'], current: BASE + '/api/v1/repairs/photo-files/full-7' });
  });

  test('confirm and rate: stars, tags, comment', async () => {
    setup(fx.repair({ status: 'completed', status_label: '待确认', actions: ['confirm', 'reopen'], completed_at: '2026-11-23T03:00:00+00:00', labour_minutes: 30, material_cost_fen: 3750, materials: [{ material_id: 1, name: 'LED 灯管', unit: '根', quantity: '1.50', unit_cost_fen: 2500, cost_fen: 3750 }] }));
    mock.route('POST', URL + '/confirm', [200, fx.repair({ status: 'confirmed', status_label: '已完成', actions: ['reopen'], rating: { stars: 4, tags: ['响应及时'], comment: '很快', auto: false } })]);
    const page = await open();

    expect(page.querySelector('.cost').dom.textContent).toBe('¥37.50');
    expect(page.querySelector('.material').dom.textContent).toContain('LED 灯管 × 1.50根');
    await fire(page.querySelector('.action-confirm'));
    await fire(page.querySelector('.star-4'));
    await fire(page.querySelectorAll('.rating-tag')[0]);
    await fire(page.querySelector('.comment'), 'input', { value: ' 很快 ' });
    await fire(page.querySelector('#submit-rating'));

    expect(mock.calls('POST', URL + '/confirm')[0].data).toEqual({ rating: 4, tags: ['响应及时'], comment: '很快' });
    expect(page.querySelector('.rated').dom.textContent).toContain('★★★★☆');
    expect(page.querySelector('.rating-form')).toBeUndefined();
  });

  test('the worker accepts; declining asks for a reason first', async () => {
    setup(fx.repair({ actions: ['accept', 'decline'] }), { modalContent: '不是我的专业' });
    mock.route('POST', URL + '/accept', [200, fx.repair({ status: 'accepted', status_label: '已接单', actions: ['start'] })]);
    mock.route('POST', URL + '/decline', [200, fx.repair({ status: 'submitted', actions: [] })]);
    const page = await open();

    expect(buttons(page)).toEqual(['接单', '退回']);
    await fire(page.querySelector('.action-decline'));
    expect(mock.calls('POST', URL + '/decline')[0].data).toEqual({ reason: '不是我的专业' });

    setup(fx.repair({ actions: ['accept', 'decline'] }));
    mock.route('POST', URL + '/accept', [200, fx.repair({ status: 'accepted', status_label: '已接单', actions: ['start'] })]);
    const again = await open();
    await fire(again.querySelector('.action-decline'));
    expect(mock.toasts()).toEqual(['请填写原因']);
    expect(mock.calls('POST', URL + '/decline')).toHaveLength(0);
    await fire(again.querySelector('.action-accept'));
    expect(mock.calls('POST', URL + '/accept')).toHaveLength(1);
    expect(buttons(again)).toEqual(['到场维修']);
  });

  test('complete opens the completion page', async () => {
    setup(fx.repair({ status: 'in_progress', actions: ['add_photos', 'complete', 'hold'] }));
    const page = await open();
    await fire(page.querySelector('.action-complete'));

    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/complete/complete?id=5' });
  });

  test('a dispatcher assigns from the worker picker', async () => {
    setup(fx.repair({ status: 'submitted', assignee_id: null, assignee_name: null, actions: ['assign', 'cancel', 'reprioritise'] }));
    mock.route('GET', '/api/v1/repairs/workers', [200, [{ user_id: 2, name: '李师傅', open_count: 1, groups: [] }, { user_id: 8, name: '郑师傅', open_count: 0, groups: [] }]]);
    mock.route('POST', URL + '/assign', [200, fx.repair()]);
    const page = await open();

    expect(page.instance.data.workerNames).toEqual(['李师傅（在办1）', '郑师傅（在办0）']);
    await fire(page.querySelector('.worker-picker'), 'change', { value: 1 });

    expect(mock.calls('POST', URL + '/assign')[0].data).toEqual({ worker_id: 8 });
  });

  test('someone else was faster: the toast says so and the page shows what is true now', async () => {
    setup(fx.repair({ actions: ['accept'] }));
    mock.route('POST', URL + '/accept', [409, envelope(409, 'repairs.concurrent_change', '报修单已被他人处理，请刷新后重试')]);
    const page = await open();
    await fire(page.querySelector('.action-accept'));

    expect(mock.toasts()).toEqual(['报修单已被他人处理，请刷新后重试']);
    expect(mock.calls('GET', URL)).toHaveLength(2);
  });

  test('someone else’s repair: 报修单不存在或无权查看', async () => {
    setup(fx.repair());
    mock.route('GET', URL, [404, envelope(404, 'repairs.not_found', '报修单不存在')]);
    const page = await open();

    expect(text(page)).toContain('报修单不存在或无权查看');
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('an automatic rating is labelled', async () => {
    setup(fx.repair({ status: 'confirmed', actions: [], rating: { stars: 5, tags: [], comment: null, auto: true } }));
    const page = await open();

    expect(page.querySelector('.rated').dom.textContent).toContain('超时自动好评');
  });
});
