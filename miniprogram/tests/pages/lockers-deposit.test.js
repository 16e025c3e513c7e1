// 快递投递: the tracking number scanned or typed, the recipient searched and chosen (namesakes told apart by
// class or department and a masked phone), bank and size with the free counts, the deposit's answer (the
// compartment whose door opened, or the counter's shelf) and every refusal in words; the parcels to take back.
// Runs at 00:30 and 12:00 school time.
const { installWx, envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const lk = require('../helpers/lockers');
const tokens = require('../../services/tokens');

let mock;

const CHEN = { user_id: 3, name: '陈同学', kind: 'student', unit: '高一(1)班', phone_masked: null };
const ZHANG1 = { user_id: 1, name: '张伟', kind: 'staff', unit: '语文教研组', phone_masked: '138****0001' };
const ZHANG2 = { user_id: 12, name: '张伟', kind: 'student', unit: '高二(1)班', phone_masked: '139****0012' };

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('k', lk.courier()));
  mock.route('GET', '/api/v1/lockers/banks', [200, [lk.bank({ id: 2, name: 'B2 号快递柜', online: false }), lk.bank()]]);
  mock.route('GET', '/api/v1/lockers/parcels/to-return', [200, [], lk.pages(0)]);
  mock.route('GET', '/api/v1/lockers/recipients', req => [200, { 陈同学: [CHEN], 张伟: [ZHANG1, ZHANG2] }[req.data.q] || []]);
});

async function openDeposit() {
  const page = render('packageLockers/pages/deposit/deposit');
  await page.instance.onLoad();
  await flush();
  return page;
}

async function fill(page, trackingNo, query, pick) {
  await fire(page.querySelector('.tracking-input'), 'input', { value: trackingNo });
  await fire(page.querySelector('.query-input'), 'input', { value: query });
  await fire(page.querySelector('.search'));
  if (pick !== undefined) await fire(page.querySelectorAll('.match')[pick]);
}

describe('快递投递', () => {
  test('banks with their state and free counts; the online one is chosen', async () => {
    const page = await openDeposit();
    expect(page.querySelectorAll('.bank').map(b => b.dom.textContent.trim())).toEqual(['B2 号快递柜（离线）', 'B1 号快递柜（在线）']);
    expect(page.instance.data.bankId).toBe(1);
    expect(page.querySelectorAll('.size').map(s => s.dom.textContent.trim())).toEqual(['小格 空 3', '中格 空 0', '大格 空 1']);
    expect(text(page)).toContain('待取回的退件（0）');
  });

  test('scan, search, deposit: the compartment whose door opened', async () => {
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.success({ result: 'YT1234567890', scanType: 'CODE_128' }), 0));
    mock.route('POST', '/api/v1/lockers/parcels', [201, lk.parcel({ status: 'depositing', raw: { tracking_no: 'YT1234567890', pickup_code: null } })]);
    const page = await openDeposit();
    await fire(page.querySelector('.scan'));
    expect(page.instance.data.trackingNo).toBe('YT1234567890');
    await fire(page.querySelector('.query-input'), 'input', { value: '陈同学' });
    await fire(page.querySelector('.search'));
    expect(mock.calls('GET', '/api/v1/lockers/recipients')[0].data).toEqual({ q: '陈同学' });
    expect(text(page)).toContain('学生 · 高一(1)班');
    expect(page.instance.data.recipient.id).toBe(3); // the only match is chosen
    await fire(page.querySelectorAll('.size')[0]);
    await fire(page.querySelector('.submit'));
    expect(mock.calls('POST', '/api/v1/lockers/parcels')[0].data).toEqual({ bank_id: 1, tracking_no: 'YT1234567890', size: 'S', recipient_id: 3 });
    expect(page.querySelector('.compartment').dom.textContent).toBe('A03 号格口');
    expect(text(page)).toContain('柜门已打开，放入后请关好柜门');
    expect(page.instance.data.trackingNo).toBe(''); // ready for the next parcel
    expect(page.instance.data.recipient).toBeNull();
  });

  test('namesakes are told apart by class or department and a masked phone, and one must be picked', async () => {
    const page = await openDeposit();
    await fill(page, 'SF2000000001', '张伟');
    expect(page.querySelectorAll('.match__detail').map(m => m.dom.textContent)).toEqual(['教职工 · 语文教研组 · 138****0001', '学生 · 高二(1)班 · 139****0012']);
    expect(text(page)).toContain('找到 2 位，请点选收件人');
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.message').dom.textContent).toBe('请搜索并选定收件人');
    expect(mock.calls('POST', '/api/v1/lockers/parcels')).toHaveLength(0);

    mock.route('POST', '/api/v1/lockers/parcels', [201, lk.parcel({ status: 'depositing' })]);
    await fire(page.querySelectorAll('.match')[1]);
    await fire(page.querySelector('.submit'));
    expect(mock.calls('POST', '/api/v1/lockers/parcels')[0].data.recipient_id).toBe(12);
  });

  test('a full bank: the counter\'s shelf code', async () => {
    mock.route('POST', '/api/v1/lockers/parcels', [201, lk.atCounter({ status: 'stored', pickup_code: null })]);
    const page = await openDeposit();
    await fill(page, 'SF2000000002', '陈同学');
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.shelf').dom.textContent).toBe('H00032');
    expect(text(page)).toContain('请把包裹放到驿站货架');
    expect(text(page)).not.toContain('柜门已打开');
  });

  test.each([
    ['lockers.bank_offline', 409, '快递柜离线，暂时不能开柜。请换一个快递柜，或把包裹放到驿站'],
    ['lockers.duplicate_tracking_no', 409, '该运单号的包裹已投递且尚未取走，请核对运单号'],
    ['lockers.recipient_ambiguous', 409, '同名的人不止一位，请在搜索结果中选定收件人'],
    ['lockers.recipient_not_found', 422, '找不到收件人，请核对手机号、学号/工号或姓名'],
    ['lockers.bank_not_found', 404, '该快递柜已不存在，请刷新后重新选择'],
    ['devices.offline', 503, '快递柜没有响应，柜门未打开，请稍后重试'],
    ['devices.refused', 502, '快递柜拒绝了开门请求，请稍后重试或联系驿站'],
    ['forbidden', 403, '你没有权限进行此操作'],
  ])('%s is said in words', async (code, status, message) => {
    mock.route('POST', '/api/v1/lockers/parcels', [status, envelope(status, code, '服务器的说法')]);
    const page = await openDeposit();
    await fill(page, 'SF2000000003', '陈同学');
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.message').dom.textContent).toBe(message);
    expect(page.instance.data.trackingNo).toBe('SF2000000003'); // kept to try again
  });

  test('a field the server refuses names the field\'s problem', async () => {
    mock.route('POST', '/api/v1/lockers/parcels', [422, envelope(422, 'validation_error', '提交的信息有误', { json: { tracking_no: ['运单号只能含字母、数字和 -'] } })]);
    const page = await openDeposit();
    await fill(page, 'SF2000000004', '陈同学');
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.message').dom.textContent).toBe('运单号只能含字母、数字和 -');
  });

  test('a bad tracking number, no match, a foreign barcode: said on the page, nothing sent', async () => {
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.success({ result: 'https://example.com/?x=1' }), 0));
    const page = await openDeposit();
    await fire(page.querySelector('.scan'));
    expect(page.querySelector('.message').dom.textContent).toBe('无法识别运单号，请手动输入');
    await fill(page, 'SF 1', '无此人');
    expect(page.querySelector('.no-match').dom.textContent).toBe('没有找到，请核对手机号、学号/工号或姓名');
    await fire(page.querySelector('.submit'));
    expect(page.querySelector('.message').dom.textContent).toContain('请扫描或输入运单号');
    expect(mock.calls('POST', '/api/v1/lockers/parcels')).toHaveLength(0);
  });

  test('closing the camera changes nothing', async () => {
    mock.wx.scanCode.mockImplementation(o => setTimeout(() => o.fail({ errMsg: 'scanCode:fail cancel' }), 0));
    const page = await openDeposit();
    await fire(page.querySelector('.scan'));
    expect(page.instance.data.result).toBeNull();
  });

  test('the parcels to take back, with 取回 opening the door', async () => {
    let rows = [lk.parcel({ status: 'to_return', raw: { id: 40, tracking_no: 'BACK0001' } })];
    mock.route('GET', '/api/v1/lockers/parcels/to-return', () => [200, rows, lk.pages(rows.length)]);
    mock.route('POST', '/api/v1/lockers/parcels/40/return', () => {
      rows = [];
      return [200, lk.parcel({ status: 'to_return', raw: { id: 40 } })];
    });
    const page = await openDeposit();
    expect(text(page)).toContain('待取回的退件（1）');
    expect(page.querySelector('.return').dom.textContent).toContain('B1 号快递柜 A03 号格口');
    expect(page.querySelector('.return').dom.textContent).toContain('待退回');
    await fire(page.querySelector('.take-back'));
    expect(mock.calls('POST', '/api/v1/lockers/parcels/40/return')).toHaveLength(1);
    expect(mock.toasts()).toContain('柜门已打开，请取出包裹并关好柜门');
    expect(text(page)).toContain('没有待取回的包裹');
  });

  test('取回 refused (the bank offline): said in words, the parcel stays', async () => {
    mock.route('GET', '/api/v1/lockers/parcels/to-return', [200, [lk.parcel({ status: 'to_return', raw: { id: 40 } })], lk.pages(1)]);
    mock.route('POST', '/api/v1/lockers/parcels/40/return', [409, envelope(409, 'lockers.bank_offline', '离线')]);
    const page = await openDeposit();
    await fire(page.querySelector('.take-back'));
    expect(mock.toasts()).toContain('快递柜离线，暂时不能开柜。请换一个快递柜，或把包裹放到驿站');
    expect(page.querySelectorAll('.return')).toHaveLength(1);
  });
});
