// 驿站: each bank's state, the compartments out of service with 恢复, the hand-over by a typed or scanned
// pickup code, the counter's waiting parcels (paginated). Runs at 00:30 and 12:00 school time.
const { installWx, envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const lk = require('../helpers/lockers');
const tokens = require('../../services/tokens');

let mock;

const counterRow = (id, name) => Object.assign(lk.atCounter({ id, shelf_code: 'H' + String(id).padStart(5, '0'), pickup_code: null }), { recipient_name: name });

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('s', lk.stationStaff()));
  mock.route('GET', '/api/v1/lockers/banks', [200, [lk.bank({ out_of_service: 1 }), lk.bank({ id: 2, name: 'B2 号快递柜', online: false, free: { S: 0, M: 2, L: 0 }, parcels_waiting: 0 })]]);
  mock.route('GET', '/api/v1/lockers/banks/1/compartments', [200, [
    { id: 11, bank_id: 1, label: 'A01', size: 'S', status: 'out_of_service', status_label: '停用', holds_parcel: false },
    { id: 12, bank_id: 1, label: 'A02', size: 'M', status: 'occupied', status_label: '有件', holds_parcel: true },
    { id: 13, bank_id: 1, label: 'A03', size: 'L', status: 'free', status_label: '空闲', holds_parcel: false },
  ]]);
  mock.route('GET', '/api/v1/lockers/counter/parcels', req =>
    req.data.page === 1
      ? [200, [counterRow(32, '张老师'), counterRow(35, '陈同学')], { 'X-Pagination': JSON.stringify({ total: 3, total_pages: 2, page: 1, next_page: 2 }) }]
      : [200, [counterRow(36, '孙主任')], { 'X-Pagination': JSON.stringify({ total: 3, total_pages: 2, page: 2 }) }]
  );
});

async function openStation() {
  const page = render('packageLockers/pages/station/station');
  await page.instance.onLoad();
  await flush();
  return page;
}

describe('驿站', () => {
  test('each bank: online or not, free by size, parcels waiting, compartments out of service', async () => {
    const page = await openStation();
    const banks = page.querySelectorAll('.bank').map(b => b.dom.textContent.replace(/\s+/g, ' '));
    expect(banks[0]).toContain('B1 号快递柜（在线）');
    expect(banks[0]).toContain('小格 3 · 中格 0 · 大格 1');
    expect(banks[0]).toContain('待取包裹 4 件');
    expect(banks[0]).toContain('停用格口 1 个');
    expect(banks[1]).toContain('（离线）');
    expect(mock.calls('GET', '/api/v1/lockers/banks/2/compartments')).toHaveLength(0); // none out of service
    expect(page.querySelectorAll('.broken')).toHaveLength(1); // A02 is occupied, A03 free
    expect(text(page)).toContain('B1 号快递柜 A01 号格口（S）');
  });

  test('恢复 after a confirm puts the compartment back; a refusal is said in words', async () => {
    const page = await openStation();
    mock.route('POST', '/api/v1/lockers/compartments/11/restore', [200, { id: 11, bank_id: 1, label: 'A01', size: 'S', status: 'free', status_label: '空闲', holds_parcel: false }]);
    mock.route('GET', '/api/v1/lockers/banks', [200, [lk.bank()]]);
    await fire(page.querySelector('.restore'));
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: 'B1 号快递柜 A01 号格口的柜门已修好？恢复后将重新用于投递' }));
    expect(mock.calls('POST', '/api/v1/lockers/compartments/11/restore')).toHaveLength(1);
    expect(mock.toasts()).toContain('已恢复使用');
    expect(page.querySelectorAll('.broken')).toHaveLength(0);
  });

  test('恢复 that another staff member did first: the server\'s word, the list refreshed', async () => {
    const page = await openStation();
    mock.route('POST', '/api/v1/lockers/compartments/11/restore', [409, envelope(409, 'locker_compartment.invalid_transition', '格口空闲，不能恢复')]);
    await fire(page.querySelector('.restore'));
    expect(mock.toasts()).toContain('格口空闲，不能恢复');
    expect(mock.calls('GET', '/api/v1/lockers/banks')).toHaveLength(2);
  });

  test('恢复 declined in the confirm sends nothing', async () => {
    mock = installWx({ confirm: false });
    tokens.save(fx.tokens('s', lk.stationStaff()));
    mock.route('GET', '/api/v1/lockers/banks', [200, [lk.bank({ out_of_service: 1 })]]);
    mock.route('GET', '/api/v1/lockers/banks/1/compartments', [200, [{ id: 11, bank_id: 1, label: 'A01', size: 'S', status: 'out_of_service', status_label: '停用', holds_parcel: false }]]);
    mock.route('GET', '/api/v1/lockers/counter/parcels', [200, [], lk.pages(0)]);
    const page = await openStation();
    await fire(page.querySelector('.restore'));
    expect(mock.calls('POST', '/api/v1/lockers/compartments/11/restore')).toHaveLength(0);
    expect(text(page)).toContain('货架上没有待取的包裹');
  });

  test('the counter\'s parcels, oldest first, the next page at the bottom', async () => {
    const page = await openStation();
    expect(text(page)).toContain('驿站货架上的包裹（3）');
    expect(page.querySelectorAll('.counter-parcel')).toHaveLength(2);
    expect(page.querySelectorAll('.counter-parcel')[0].dom.textContent).toContain('驿站货架 H00032');
    expect(page.querySelectorAll('.counter-parcel')[0].dom.textContent).toContain('张老师');
    await page.instance.onReachBottom();
    await flush();
    expect(page.querySelectorAll('.counter-parcel')).toHaveLength(3);
    expect(text(page)).toContain('没有更多了');
  });

  test('a typed code hands the parcel over; it leaves the shelf list', async () => {
    mock.route('POST', '/api/v1/lockers/counter/hand-over', [200, lk.atCounter({ status: 'picked_up', pickup_code: null })]);
    const page = await openStation();
    await fire(page.querySelector('.code-input'), 'input', { value: '48 2913x' });
    expect(page.instance.data.code).toBe('482913');
    await fire(page.querySelector('.submit'));
    expect(mock.calls('POST', '/api/v1/lockers/counter/hand-over')[0].data).toEqual({ code: '482913' });
    expect(text(page)).toContain('已交付');
    expect(text(page)).toContain('SF1000000001');
    expect(page.querySelectorAll('.counter-parcel')).toHaveLength(1);
    expect(page.instance.data.code).toBe('');
  });

  test('the recipient\'s QR scanned hands it over; another QR or a short code is not sent', async () => {
    mock.route('POST', '/api/v1/lockers/counter/hand-over', [200, lk.atCounter({ status: 'picked_up', pickup_code: null })]);
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.success({ result: 'https://x.test/mp/parcel-pickup?code=482913' }), 0));
    const page = await openStation();
    await fire(page.querySelector('.scan'));
    expect(mock.calls('POST', '/api/v1/lockers/counter/hand-over')[0].data).toEqual({ code: '482913' });

    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.success({ result: 'https://x.test/mp/canteen-pickup?token=abc' }), 0));
    await fire(page.querySelector('.scan'));
    expect(page.querySelector('.message').dom.textContent).toBe('不是快递取件码');
    page.setData({ code: '123' });
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.message').dom.textContent).toBe('请输入 6 位取件码');
    expect(mock.calls('POST', '/api/v1/lockers/counter/hand-over')).toHaveLength(1);
  });

  test('an unknown code: 交付失败 with the reason', async () => {
    mock.route('POST', '/api/v1/lockers/counter/hand-over', [404, envelope(404, 'lockers.code_not_found', '取件码无效')]);
    const page = await openStation();
    page.setData({ code: '000000' });
    await fire(page.querySelector('.submit'));
    expect(text(page)).toContain('交付失败');
    expect(page.querySelector('.message').dom.textContent).toBe('取件码无效，请核对后重试');
  });

  test('someone not on the station staff is told so', async () => {
    tokens.save(fx.tokens('k', lk.courier()));
    mock.route('GET', '/api/v1/lockers/counter/parcels', [403, envelope(403, 'forbidden', '没有权限')]);
    mock.route('GET', '/api/v1/lockers/banks/1/compartments', [403, envelope(403, 'forbidden', '没有权限')]);
    const page = await openStation();
    expect(text(page)).toContain('加载失败');
    expect(page.querySelectorAll('.broken')).toHaveLength(0);
  });

  test('pull to refresh loads the banks and the shelf again', async () => {
    const page = await openStation();
    await page.instance.onPullDownRefresh();
    await flush();
    expect(mock.calls('GET', '/api/v1/lockers/banks')).toHaveLength(2);
    expect(mock.calls('GET', '/api/v1/lockers/counter/parcels')).toHaveLength(2);
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalled();
  });
});
