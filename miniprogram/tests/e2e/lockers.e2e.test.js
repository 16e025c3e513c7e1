// End to end: the demo courier (刘快递) finds the demo student (陈同学) with the real api/lockers.js and
// deposits a parcel in the demo bank (宿舍1号楼快递柜), whose controller is the locker simulator the backend
// serves (E2E_LOCKER_SIM_BASE). The door stays open until the test closes it through the simulator's
// control API; its signed `closed` event stores the parcel, and the student sees it with a pickup code and
// its QR, opens the door from the app and finds it 已取件.
const live = require('./live');
const { removeDownloads } = require('./fetch-wx');

const BANK = 'locker-dorm1';

function sim(method, path, body) {
  const base = process.env.E2E_LOCKER_SIM_BASE;
  if (!base) throw new Error('E2E_LOCKER_SIM_BASE is not set: the e2e backend serves no locker simulator');
  return fetch(base + '/__sim__/' + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  }).then(res => {
    if (!res.ok) throw new Error('locker simulator: ' + method + ' ' + path + ' answered ' + res.status);
    return res.json();
  });
}

async function until(what, check, ms) {
  const deadline = Date.now() + (ms || 20000);
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise(resolve => setTimeout(resolve, 300));
  }
}

describe('parcel lockers against the live backend and the locker simulator', () => {
  let lockersApi;

  beforeAll(async () => {
    live.connect('demo-courier');
    lockersApi = require('../../api/lockers');
    await sim('POST', 'controllers/' + BANK + '/faults', { auto_close: false }); // doors close when we say
  });

  afterAll(async () => {
    await sim('POST', 'controllers/' + BANK + '/faults', { auto_close: true });
    removeDownloads();
  });

  test('a courier deposits, the door is closed, the recipient sees the parcel and opens it', async () => {
    await live.logInAs('courier');
    const trackingNo = 'E2E' + Date.now();
    const [chen] = await lockersApi.recipients('陈同学');
    expect(chen).toMatchObject({ name: '陈同学', kind: 'student', unit: '高一(1)班' });
    expect(Object.keys(chen).sort()).toEqual(['kind', 'name', 'phone_masked', 'unit', 'user_id']);

    const bank = await until('the demo bank online', async () => (await lockersApi.banks()).filter(b => b.online && b.free.S > 0)[0]);
    const deposited = await lockersApi.deposit({ bank_id: bank.id, tracking_no: trackingNo, size: 'S', recipient_id: chen.user_id });
    expect(deposited).toMatchObject({ status: 'depositing', storage: 'locker', pickup_code: null });
    expect(deposited.compartment).toMatch(/^A\d\d$/);
    const again = await lockersApi.deposit({ bank_id: bank.id, tracking_no: trackingNo, size: 'S', recipient_id: chen.user_id }, { silent: true }).catch(err => err);
    expect(again.error_code).toBe('lockers.duplicate_tracking_no');

    const opened = (await sim('GET', 'controllers/' + BANK)).opened.map(o => o.compartment);
    expect(opened[opened.length - 1]).toBe(deposited.compartment);
    await sim('POST', 'controllers/' + BANK + '/close', { compartment: deposited.compartment });

    await live.logInAs('student');
    const mine = await until('the parcel stored', async () => (await lockersApi.parcels()).filter(p => p.tracking_no === trackingNo && p.status === 'stored')[0]);
    expect(mine).toMatchObject({ status_label: '待取件', compartment: deposited.compartment, bank_name: '宿舍1号楼快递柜', fee_due_fen: 0 });
    expect(mine.pickup_code).toMatch(/^\d{6}$/);
    const qr = await lockersApi.qr(mine.id);
    expect(require('fs').readFileSync(qr).subarray(1, 4).toString()).toBe('PNG');

    const answer = await lockersApi.open(mine.id);
    expect(answer.id).toBe(mine.id);
    await until('the parcel picked up', async () => (await lockersApi.parcels()).filter(p => p.id === mine.id && p.status === 'picked_up')[0]);
    await sim('POST', 'controllers/' + BANK + '/close', { compartment: deposited.compartment }); // the compartment is free again
  });
});
