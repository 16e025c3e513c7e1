const money = require('../utils/money');
const time = require('../utils/time');
const roles = require('../utils/roles');
const scene = require('../utils/scene');
const tiles = require('../utils/tiles');
const bindForm = require('../utils/bind-form');
const routes = require('../utils/routes');
const paging = require('../utils/paging');
// the defaults, whatever this machine's config/local.js says (tests/env.test.js covers it)
jest.mock('../config/local.js', () => ({}), { virtual: true });
const env = require('../config/env');
const fx = require('./helpers/fixtures');

describe('money', () => {
  test.each([
    [1250, '¥12.50'],
    [0, '¥0.00'],
    [5, '¥0.05'],
    [100, '¥1.00'],
    [-1250, '-¥12.50'],
    [-5, '-¥0.05'],
    [1999999, '¥19999.99'],
    ['30', '¥0.30'],
  ])('formatFen(%p) = %s', (fen, text) => {
    expect(money.formatFen(fen)).toBe(text);
  });

  test('no float drift: 0.1 + 0.2 yuan in fen stays exact', () => {
    expect(money.formatFen(10 + 20)).toBe('¥0.30');
    expect(money.fenToYuan(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
  });

  test.each([[12.5], ['12.50'], [NaN], [null], [undefined]])('rejects non-integer fen %p', value => {
    expect(() => money.formatFen(value)).toThrow(TypeError);
  });

  test.each([
    ['12', 1200],
    ['12.5', 1250],
    ['12.50', 1250],
    [' 0.05 ', 5],
    ['0.1', 10],
    ['1.15', 115], // 1.15 * 100 is 114.99999999999999 in floats
    ['9999999.99', 999999999],
  ])('yuanToFen(%p) = %p, with string maths', (yuan, fen) => {
    expect(money.yuanToFen(yuan)).toBe(fen);
  });

  test.each([['12.345'], ['-3'], ['1e3'], ['12.'], ['.5'], ['十二'], [''], [null], [undefined]])('yuanToFen(%p) is null', yuan => {
    expect(money.yuanToFen(yuan)).toBeNull();
  });
});

describe('time (Asia/Shanghai, whatever the device zone)', () => {
  const NOW = '2025-11-21T06:30:00Z'; // 14:30 in Shanghai

  test('formats a UTC instant in Shanghai', () => {
    expect(time.formatDateTime('2025-11-21T06:30:00+00:00', NOW)).toBe('11月21日 14:30');
    expect(time.formatDateTime('2025-11-21T06:30:00.123456Z', NOW)).toBe('11月21日 14:30');
    expect(time.formatDateTime('2025-11-21T14:30:00+08:00', NOW)).toBe('11月21日 14:30');
  });

  test('crosses the date line in Shanghai, not in UTC', () => {
    expect(time.formatDateTime('2025-11-20T16:05:00Z', NOW)).toBe('11月21日 00:05');
    expect(time.formatDateTime('2025-12-31T16:00:00Z', NOW)).toBe('2026年1月1日 00:00');
  });

  test('a string without an offset is school wall time', () => {
    expect(time.formatDateTime('2025-11-21 09:05:00', NOW)).toBe('11月21日 09:05');
  });

  test('does not depend on the process time zone', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    try {
      expect(time.formatDateTime('2025-11-21T06:30:00Z', NOW)).toBe('11月21日 14:30');
    } finally {
      process.env.TZ = saved;
    }
  });

  test.each([
    ['2025-11-21T06:29:40Z', '刚刚'],
    ['2025-11-21T06:27:00Z', '3分钟前'],
    ['2025-11-21T04:00:00Z', '2小时前'],
    ['2025-11-20T16:10:00Z', '14小时前'],
    ['2025-11-20T15:50:00Z', '昨天 23:50'],
    ['2025-11-18T06:30:00Z', '3天前'],
    ['2025-11-01T06:30:00Z', '11月1日 14:30'],
    ['2025-11-22T06:30:00Z', '11月22日 14:30'],
  ])('formatRelative(%s) = %s', (iso, text) => {
    expect(time.formatRelative(iso, NOW)).toBe(text);
  });

  test('garbage gives an empty string', () => {
    expect(time.formatDateTime('not a date')).toBe('');
    expect(time.formatRelative(null)).toBe('');
  });
});

describe('roles', () => {
  test('labels every role of DESIGN §1 plus parent', () => {
    expect(roles.roleLabels(['teacher', 'student', 'parent', 'worker', 'dispatcher', 'canteen', 'courier', 'finance', 'admin'])).toEqual([
      '教职工', '学生', '家长', '维修工', '报修调度', '食堂', '快递员', '财务', '后勤管理员',
    ]);
    expect(roles.roleLabel('unknown')).toBe('unknown');
    expect(roles.personKindLabel('staff')).toBe('教职工');
  });
});

describe('scene', () => {
  test('mini-program code scene, URL-encoded in the query', () => {
    expect(scene.parseScene({ scene: encodeURIComponent('p=E-ADM-301') })).toEqual({ type: 'place', code: 'E-ADM-301' });
    expect(scene.parseScene({ scene: 'm%3DMT2025' })).toEqual({ type: 'meeting', code: 'MT2025' });
    expect(scene.parseScene({ scene: 'p=A1' })).toEqual({ type: 'place', code: 'A1' });
  });

  test('plain QR link passed as q', () => {
    const q = encodeURIComponent('https://houqin.example.com/qr?p=E-ADM-301');
    expect(scene.parseScene({ q })).toEqual({ type: 'place', code: 'E-ADM-301' });
    const q2 = encodeURIComponent('https://houqin.example.com/qr?scene=' + encodeURIComponent('m=MT1'));
    expect(scene.parseScene({ q: q2 })).toEqual({ type: 'meeting', code: 'MT1' });
  });

  test('rejects anything else', () => {
    expect(scene.parseScene({})).toBeNull();
    expect(scene.parseScene(undefined)).toBeNull();
    expect(scene.parseScene({ scene: 'x=1' })).toBeNull();
    expect(scene.parseScene({ scene: 'p=' })).toBeNull();
    expect(scene.parseScene({ scene: encodeURIComponent('p=<script>') })).toBeNull();
    expect(scene.parseScene({ q: encodeURIComponent('https://example.com/') })).toBeNull();
  });

  test('a meeting\'s rotating check-in link: token, and g=1 when the meeting checks location', () => {
    const token = '12.117543210.i.AbCdEfGhIjKlMnOp';
    const q = encodeURIComponent('https://zhhq.example.edu.cn/mp/checkin?t=' + token + '&g=1');
    expect(scene.parseScene({ q })).toEqual({ type: 'checkin', code: token, geo: true });
    expect(scene.parseScanResult({ result: 'https://zhhq.example.edu.cn/mp/checkin?t=' + token })).toEqual({
      type: 'checkin',
      code: token,
      geo: false,
    });
    expect(scene.parseScanResult({ result: 'https://x/mp/checkin?t=12.1.i.short' })).toBeNull();
    expect(scene.parseScanResult({ result: 'https://x/mp/checkin?m=ABCD2345' })).toEqual({ type: 'meeting', code: 'ABCD2345' });
  });

  test('wx.scanCode results: mini-program code path or plain QR text', () => {
    expect(scene.parseScanResult({ path: 'pages/index/index?scene=p%3DE-ADM-301' })).toEqual({ type: 'place', code: 'E-ADM-301' });
    expect(scene.parseScanResult({ result: 'https://houqin.example.com/qr?p=B2' })).toEqual({ type: 'place', code: 'B2' });
    expect(scene.parseScanResult({ result: 'hello' })).toBeNull();
  });
});

describe('tiles per role', () => {
  const titles = user => tiles.tilesFor(user).map(t => t.title);

  test('a worker', () => {
    expect(titles(fx.worker())).toEqual(['扫码', '会议签到', '我要报修', '维修任务']);
  });

  test('a student', () => {
    expect(titles(fx.student())).toEqual(['扫码', '会议签到', '我要报修', '订餐', '快递柜', '缴费']);
  });

  test('students and parents get 会议签到 too (班会, 家长会)', () => {
    expect(tiles.tilesFor(fx.student()).map(t => t.name)).toContain('meetings');
    expect(tiles.tilesFor(fx.user({ roles: ['parent'] })).map(t => t.name)).toContain('meetings');
  });

  test('a teacher who is also an admin', () => {
    expect(titles(fx.user({ roles: ['teacher', 'admin'] }))).toEqual(['扫码', '会议签到', '我要报修', '订餐', '快递柜', '快递投递', '驿站', '统计', '后勤通知']);
    expect(tiles.findTile('notice').url).toBe('/packageAdmin/pages/notice/notice');
  });

  test('each remaining role gets its own tile', () => {
    expect(titles(fx.user({ roles: ['dispatcher'] }))).toContain('派单调度');
    expect(titles(fx.user({ roles: ['canteen'] }))).toContain('食堂核销');
    expect(titles(fx.user({ roles: ['courier'] }))).toEqual(['扫码', '会议签到', '我要报修', '快递投递']); // no 驿站
    expect(titles(fx.user({ roles: ['finance'] }))).toContain('财务');
    expect(titles(fx.user({ roles: ['parent'] }))).toEqual(['扫码', '会议签到', '我要报修', '订餐', '缴费']);
  });

  test('unbound users get none; only flows that exist are ready', () => {
    expect(tiles.tilesFor(fx.unbound())).toEqual([]);
    expect(tiles.tilesFor(null)).toEqual([]);
    expect(tiles.TILES.filter(t => t.ready).map(t => t.name).sort()).toEqual(
      ['canteen-manage', 'canteen-verify', 'courier', 'dispatch', 'fees', 'lockers', 'meals', 'meetings', 'notice', 'repair', 'repair-tasks', 'scan', 'station']);
    expect(tiles.findTile('lockers').url).toBe('/packageLockers/pages/parcels/parcels');
    expect(tiles.findTile('courier').url).toBe('/packageLockers/pages/deposit/deposit');
    expect(tiles.findTile('station').url).toBe('/packageLockers/pages/station/station');
    expect(tiles.findTile('meals').url).toBe('/packageCanteen/pages/menu/menu');
    expect(tiles.findTile('canteen-verify').url).toBe('/packageCanteen/pages/verify/verify');
    expect(tiles.findTile('meetings').url).toBe('/packageMeetings/pages/list/list');
    expect(tiles.findTile('fees').url).toBe('/packageFees/pages/bills/bills');
    expect(tiles.findTile('repair').url).toBe('/packageRepairs/pages/report/report');
    expect(tiles.findTile('repair-tasks').url).toBe('/packageRepairs/pages/tasks/tasks');
    expect(tiles.findTile('dispatch').url).toBe('/packageRepairs/pages/queue/queue');
    expect(tiles.findTile('repair', tiles.PLACE_ACTIONS)).toMatchObject({ ready: true, url: '/packageRepairs/pages/report/report' });
    expect(tiles.findTile('repair', tiles.PLACE_ACTIONS).title).toBe('在这里报修');
  });
});

describe('bind form', () => {
  test('empty fields give per-kind Chinese messages', () => {
    expect(bindForm.validate({ kind: 'staff', number: ' ', name: '' })).toEqual({ number: '请输入工号', name: '请输入姓名' });
    expect(bindForm.validate({ kind: 'student', number: '', name: '' })).toEqual({ number: '请输入学号', name: '请输入姓名' });
    expect(bindForm.validate({ kind: 'parent', number: '', name: '' })).toEqual({ number: '请输入孩子的学号', name: '请输入孩子的姓名' });
    expect(bindForm.validate({ kind: 'staff', number: 'T 01', name: '张三' }).number).toBe('工号应为2到32位字母、数字或“-”');
    expect(bindForm.validate({ kind: 'staff', number: 'T0001', name: '张三' })).toEqual({});
  });

  test('payload per kind', () => {
    expect(bindForm.toPayload({ kind: 'staff', number: ' T0001 ', name: '张三', phoneCode: 'pc' })).toEqual({ kind: 'staff', number: 'T0001', name: '张三', phone_code: 'pc' });
    expect(bindForm.toPayload({ kind: 'staff', number: 'T0001', name: '张三', phoneCode: '' })).toEqual({ kind: 'staff', number: 'T0001', name: '张三' });
    expect(bindForm.toPayload({ kind: 'student', number: 'S1', name: '李四', phoneCode: 'pc' })).toEqual({ kind: 'student', number: 'S1', name: '李四' });
    expect(bindForm.toPayload({ kind: 'parent', number: 'S1', name: '李四' })).toEqual({ kind: 'parent', student_number: 'S1', student_name: '李四' });
  });

  test('server field errors, flat or per location', () => {
    expect(bindForm.fieldErrorsFromServer({ student_number: ['学号不存在'] })).toEqual({ number: '学号不存在' });
    expect(bindForm.fieldErrorsFromServer({ json: { name: ['姓名过长'], phone_code: '无效' } })).toEqual({ name: '姓名过长', phone: '无效' });
    expect(bindForm.fieldErrorsFromServer(undefined)).toEqual({});
  });
});

describe('env', () => {
  afterEach(() => env.setBaseUrl(null));

  test.each([
    ['develop', 'http://127.0.0.1:5000'],
    ['trial', env.BASE_URLS.trial],
    ['release', env.BASE_URLS.release],
  ])('%s -> %s', (envVersion, url) => {
    env.setBaseUrl(null);
    global.wx = { getAccountInfoSync: () => ({ miniProgram: { envVersion } }) };
    expect(env.getBaseUrl()).toBe(url);
  });

  test('trial and release use HTTPS; tests can override', () => {
    expect(env.BASE_URLS.trial).toMatch(/^https:\/\//);
    expect(env.BASE_URLS.release).toMatch(/^https:\/\//);
    env.setBaseUrl('http://127.0.0.1:9999/');
    expect(env.getBaseUrl()).toBe('http://127.0.0.1:9999');
  });
});

describe('in-app links', () => {
  test.each([
    ['/packageRepairs/pages/detail/detail?id=7', { url: '/packageRepairs/pages/detail/detail?id=7', tab: false }],
    ['pages/me/me', { url: '/pages/me/me', tab: true }],
    ['/pages/index/index?from=msg', { url: '/pages/index/index', tab: true }],
    ['/pages/place/place', { url: '/pages/place/place', tab: false }],
  ])('%s is a page of this mini-program', (link, target) => {
    expect(routes.appPage(link)).toEqual(target);
  });

  test.each([null, '', 'https://example.com/pages/x', '/api/v1/me', '/pages/../secret', 'javascript:alert(1)'])('%p is not', link => {
    expect(routes.appPage(link)).toBeNull();
  });
});

describe('paging', () => {
  test('merge skips ids already shown', () => {
    expect(paging.merge([{ id: 3 }, { id: 2 }], [{ id: 2 }, { id: 1 }]).map(i => i.id)).toEqual([3, 2, 1]);
  });

  test('hasMore follows X-Pagination, else a full page', () => {
    expect(paging.hasMore({ total: 45, page: 2, next_page: 3 }, 20)).toBe(true);
    expect(paging.hasMore({ total: 45, page: 3 }, 5)).toBe(false);
    expect(paging.hasMore(null, 20, 20)).toBe(true);
    expect(paging.hasMore(null, 7, 20)).toBe(false);
  });

  test('nextPage steps back over rows removed from the loaded pages', () => {
    expect(paging.nextPage(0, 0, 20)).toBe(1);
    expect(paging.nextPage(2, 0, 20)).toBe(3);
    expect(paging.nextPage(2, 1, 20)).toBe(2);
    expect(paging.nextPage(2, 20, 20)).toBe(2);
    expect(paging.nextPage(2, 21, 20)).toBe(1);
  });
});
