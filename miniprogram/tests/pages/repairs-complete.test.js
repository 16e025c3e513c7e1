const { installWx, envelope, flush } = require('../helpers/wx');
const { render, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packageRepairs/pages/complete/complete';

let mock;

beforeEach(() => {
  mock = installWx({ media: ['wxfile://after.jpg'] });
  tokens.save(fx.tokens('a', fx.worker()));
  mock.route('GET', '/api/v1/repairs/materials', [200, [
    { id: 1, name: 'LED 灯管', unit: '根', unit_cost_fen: 2500, active: true },
    { id: 2, name: '开关面板', unit: '个', unit_cost_fen: 1500, active: true },
  ]]);
  mock.route('POST', '/api/v1/repairs/photos', [201, { id: 77, kind: null, url: '/x', thumb_url: '/x', width: 1, height: 1 }]);
  mock.route('POST', '/api/v1/repairs/5/complete', [200, fx.repair({ status: 'completed' })]);
});

async function open() {
  const page = render(PAGE);
  await page.instance.onLoad({ id: '5' });
  return page;
}

describe('完工登记', () => {
  test('materials from the catalogue, labour, note and an after-photo', async () => {
    const page = await open();
    const picker = page.querySelector('.material-picker');
    await fire(picker, 'change', { value: 0 });
    await fire(picker, 'change', { value: 1 });
    await fire(page.querySelector('.quantity-0'), 'input', { value: '1.5' });
    expect(page.querySelector('.cost').dom.textContent).toBe('¥52.50');
    await fire(page.querySelector('#labour'), 'input', { value: '45' });
    await fire(page.querySelector('#note'), 'input', { value: '更换镇流器' });
    await fire(page.querySelector('.photo--add'));
    await flush();
    await fire(page.querySelector('#submit'));
    await flush();

    expect(mock.calls('POST', '/api/v1/repairs/5/complete')[0].data).toEqual({
      labour_minutes: 45,
      materials: [{ material_id: 1, quantity: '1.5' }, { material_id: 2, quantity: '1' }],
      note: '更换镇流器',
      photo_ids: [77],
    });
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=5' });
  });

  test('labour and quantities are checked before sending', async () => {
    const page = await open();
    await fire(page.querySelector('.material-picker'), 'change', { value: 0 });
    await fire(page.querySelector('.quantity-0'), 'input', { value: '0' });
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-labour').dom.textContent).toBe('请填写工时（1–10000 分钟）');
    expect(page.querySelector('.error-materials').dom.textContent).toBe('数量应大于 0，最多两位小数');
    expect(mock.calls('POST', '/api/v1/repairs/5/complete')).toHaveLength(0);
  });

  test('the server’s refusal is shown', async () => {
    mock.route('POST', '/api/v1/repairs/5/complete', [409, envelope(409, 'repairs.invalid_transition', '报修单当前状态不允许此操作')]);
    const page = await open();
    await fire(page.querySelector('#labour'), 'input', { value: '10' });
    await fire(page.querySelector('#submit'));
    await flush();

    expect(page.querySelector('.form-error').dom.textContent).toBe('报修单当前状态不允许此操作');
  });
});
