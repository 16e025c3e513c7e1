// 菜单管理 (canteen staff): dishes with their photos (edit in yuan → fen, upload with wx.chooseMedia +
// wx.uploadFile, remove), a day's menu per meal (portions, publish a draft), copying a week. Runs at
// 00:30 and 12:00 school time ("today" and its week are the school's).
const { installWx, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const ct = require('../helpers/canteen');
const tokens = require('../../services/tokens');
const tiles = require('../../utils/tiles');
const { schoolDate } = require('../../utils/time');

let mock;

const PHOTO = '/api/v1/canteen/dish-photos/tok-photo';
const THUMB = '/api/v1/canteen/dish-photos/tok-thumb';
const DISHES = [
  ct.dish({ photo_url: PHOTO, thumb_url: THUMB }),
  ct.dish({ id: 2, name: '番茄炒蛋', price_fen: 900, tags: ['素食'], allergens: ['鸡蛋'] }),
  ct.dish({ id: 3, name: '牛肉面', window_id: 2, price_fen: 1300, tags: [], allergens: ['小麦'] }),
];

function envelope(status, errorCode, message) {
  return [status, { code: status, status: 'Error', error_code: errorCode, message, errors: {} }];
}

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('c', ct.canteenStaff()));
  mock.route('GET', '/api/v1/canteen/canteens', [200, [{ id: 1, name: '第一食堂', location: '' }]]);
  mock.route('GET', '/api/v1/canteen/canteens/1/windows', [200, ct.WINDOWS]);
  mock.route('GET', '/api/v1/canteen/canteens/1/dishes', [200, DISHES]);
  mock.route('GET', '/api/v1/canteen/menus', [200, []]);
});

async function openManage() {
  const page = render('packageCanteen/pages/manage/manage');
  await page.instance.onLoad({});
  await flush();
  return page;
}

const rows = page => page.querySelectorAll('.dish-row');
const rowOf = (page, name) => rows(page).filter(r => r.dom.textContent.indexOf(name) >= 0)[0];

async function input(page, selector, value, index) {
  await fire(page.querySelectorAll(selector)[index || 0], 'input', { value });
}

describe('菜单管理: the way in', () => {
  test('canteen staff have a 菜单管理 tile, and 食堂核销 links to it; others have neither', async () => {
    const staff = tiles.tilesFor(ct.canteenStaff());
    expect(tiles.findTile('canteen-manage', staff)).toMatchObject({ ready: true, url: '/packageCanteen/pages/manage/manage' });
    expect(tiles.findTile('canteen-manage', tiles.tilesFor(fx.student()))).toBeNull();
    const verify = render('packageCanteen/pages/verify/verify');
    verify.instance.onLoad({});
    await flush();
    await fire(verify.querySelector('.manage'));
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageCanteen/pages/manage/manage' });
  });
});

describe('菜单管理: dishes', () => {
  test('every dish with its thumbnail, price in yuan, tags and allergens', async () => {
    const page = await openManage();
    expect(rows(page)).toHaveLength(3);
    expect(rowOf(page, '红烧肉').dom.textContent).toContain('¥12.00');
    expect(rowOf(page, '番茄炒蛋').dom.textContent).toContain('含 鸡蛋');
    expect(rowOf(page, '牛肉面').dom.textContent).toContain('二号窗口');
    expect(page.querySelectorAll('.thumb')).toHaveLength(1); // 红烧肉's alone
    expect(page.instance.data.dishes[0].thumb).toBe('http://api.test' + THUMB);
  });

  test('editing: the price typed in yuan goes as fen, tags and allergens as lists; the list shows the answer', async () => {
    mock.route('PUT', '/api/v1/canteen/dishes/2', req => [200, Object.assign(ct.dish(DISHES[1]), req.data)]);
    const page = await openManage();
    await fire(rowOf(page, '番茄炒蛋'));
    expect(page.instance.data.form).toMatchObject({ id: 2, name: '番茄炒蛋', yuan: '9.00', tags: '素食', allergens: '鸡蛋' });
    await input(page, '.price-input', '9.5');
    await input(page, '.tags-input', '素食、 招牌,新品');
    await input(page, '.name-input', '西红柿炒蛋');
    await fire(page.querySelector('.save-dish'));
    expect(mock.calls('PUT', '/api/v1/canteen/dishes/2')[0].data).toEqual({
      name: '西红柿炒蛋', price_fen: 950, tags: ['素食', '招牌', '新品'], allergens: ['鸡蛋'], window_id: 1,
    });
    expect(rowOf(page, '西红柿炒蛋').dom.textContent).toContain('¥9.50');
    expect(mock.toasts()).toContain('已保存');
  });

  test('a price that is not yuan, or no name, is not sent', async () => {
    const page = await openManage();
    await fire(rowOf(page, '红烧肉'));
    for (const bad of ['12.345', '-3', '十二', '0', '']) {
      await input(page, '.price-input', bad);
      await fire(page.querySelector('.save-dish'));
      expect(text(page)).toContain('请输入价格（元），如 12 或 12.5');
    }
    await input(page, '.price-input', '12');
    await input(page, '.name-input', '  ');
    await fire(page.querySelector('.save-dish'));
    expect(text(page)).toContain('请输入菜名');
    expect(mock.requests.filter(r => r.method !== 'GET')).toHaveLength(0);
  });

  test('a new dish is added at the chosen window, then its photo goes up with wx.uploadFile', async () => {
    mock.route('POST', '/api/v1/canteen/canteens/1/dishes', req => [201, ct.dish(Object.assign({ id: 5 }, req.data))]);
    const page = await openManage();
    await fire(page.querySelector('.new-dish'));
    await fire(page.querySelector('.choose-photo')); // not saved yet: no id to upload to
    expect(mock.toasts()).toContain('请先保存菜品，再上传照片');
    expect(mock.wx.chooseMedia).not.toHaveBeenCalled();

    await input(page, '.name-input', '葱油拌面');
    await input(page, '.price-input', '7');
    await input(page, '.allergens-input', '小麦');
    await fire(page.querySelector('.window-select'), 'change', { value: 1 });
    await fire(page.querySelector('.save-dish'));
    expect(mock.calls('POST', '/api/v1/canteen/canteens/1/dishes')[0].data).toEqual({
      name: '葱油拌面', price_fen: 700, tags: [], allergens: ['小麦'], window_id: 2,
    });
    expect(rows(page)).toHaveLength(4);
    expect(page.instance.data.form.id).toBe(5);

    mock.chooseMedia(['tmp/noodles.jpg']);
    await fire(page.querySelector('.choose-photo'));
    expect(mock.wx.chooseMedia).toHaveBeenCalledWith(expect.objectContaining({ count: 1, mediaType: ['image'] }));
    const up = mock.uploads[0];
    expect(up).toMatchObject({ path: '/api/v1/canteen/dishes/5/photo', filePath: 'tmp/noodles.jpg', name: 'file' });
    expect(up.header.Authorization).toMatch(/^Bearer /);
    expect(page.instance.data.form.photoBusy).toBe(true);
    up.succeed(200, ct.dish({ id: 5, name: '葱油拌面', window_id: 2, price_fen: 700, photo_url: PHOTO, thumb_url: PHOTO }));
    await flush();
    expect(page.instance.data.form).toMatchObject({ photoBusy: false, thumb: 'http://api.test' + PHOTO, photoError: '' });
    expect(page.querySelector('.choose-photo').dom.textContent).toBe('更换照片');
    expect(page.querySelectorAll('.thumb')).toHaveLength(2); // the list shows it too
  });

  test('a file the server refuses: its message by the photo, the dish keeps its photo', async () => {
    const page = await openManage();
    await fire(rowOf(page, '红烧肉'));
    mock.chooseMedia(['tmp/doc.pdf']);
    await fire(page.querySelector('.choose-photo'));
    mock.uploads[0].succeed(...envelope(422, 'uploads.not_an_image', '只能上传图片（JPG、PNG、WebP）'));
    await flush();
    expect(page.querySelector('.photo-error').dom.textContent).toBe('只能上传图片（JPG、PNG、WebP）');
    expect(page.instance.data.form.thumb).toBe('http://api.test' + THUMB);
  });

  test('closing the album uploads nothing', async () => {
    const page = await openManage();
    await fire(rowOf(page, '红烧肉'));
    await fire(page.querySelector('.choose-photo'));
    expect(mock.uploads).toHaveLength(0);
    expect(page.instance.data.form.photoBusy).toBe(false);
  });

  test('删除照片 asks first, then the dish has none', async () => {
    mock.route('DELETE', '/api/v1/canteen/dishes/1/photo', [200, ct.dish()]);
    const page = await openManage();
    await fire(rowOf(page, '红烧肉'));
    await fire(page.querySelector('.remove-photo'));
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '删除照片' }));
    expect(mock.calls('DELETE', '/api/v1/canteen/dishes/1/photo')).toHaveLength(1);
    expect(page.instance.data.form.photo).toBe('');
    expect(page.querySelectorAll('.thumb')).toHaveLength(0);
    expect(page.querySelectorAll('.remove-photo')).toHaveLength(0);
  });

  test('someone the server does not let edit gets its message', async () => {
    mock.route('PUT', '/api/v1/canteen/dishes/1', envelope(403, 'canteen.forbidden', '仅食堂工作人员可以操作'));
    const page = await openManage();
    await fire(rowOf(page, '红烧肉'));
    await fire(page.querySelector('.save-dish'));
    expect(mock.toasts()).toContain('仅食堂工作人员可以操作');
    expect(page.instance.data.saving).toBe(false);
  });
});

describe('菜单管理: menus', () => {
  async function openMenuTab() {
    const page = await openManage();
    await fire(page.querySelector('.tab-menu'));
    return page;
  }

  test('today\'s lunch (school time) by default; another day and meal ask again', async () => {
    const page = await openMenuTab();
    expect(mock.calls('GET', '/api/v1/canteen/menus')[0].data).toEqual({ date: schoolDate(0), meal: 'lunch' });
    expect(page.querySelectorAll('.meal').map(m => m.dom.textContent)).toEqual(['早', '午', '晚']);
    await fire(page.querySelectorAll('.meal')[0]);
    await fire(page.querySelectorAll('.day')[1]);
    expect(mock.calls('GET', '/api/v1/canteen/menus')[2].data).toEqual({ date: schoolDate(1), meal: 'breakfast' });
  });

  test('a published menu: portions per dish, changed in place; never below what is ordered', async () => {
    mock.route('GET', '/api/v1/canteen/menus', [200, [ct.menu({ id: 22, canteen_id: 2 }), ct.menu()]]);
    mock.route('PUT', '/api/v1/canteen/menu-items/101/portions', req => [200, ct.item({ portions: req.data.portions, remaining: req.data.portions - 47 })]);
    const page = await openMenuTab();
    expect(page.instance.data.menu.id).toBe(21); // this canteen's
    const items = page.querySelectorAll('.menu-item');
    expect(items).toHaveLength(3);
    expect(items[0].dom.textContent).toContain('剩 3 / 50 份');
    await input(page, '.portions-input', '80');
    await fire(page.querySelectorAll('.save-portions')[0]);
    expect(mock.calls('PUT', '/api/v1/canteen/menu-items/101/portions')[0].data).toEqual({ portions: 80 });
    expect(page.querySelectorAll('.menu-item')[0].dom.textContent).toContain('剩 33 / 80 份');

    mock.route('PUT', '/api/v1/canteen/menu-items/101/portions', envelope(409, 'canteen.portions_taken', '份数不能少于已订出的份数'));
    await input(page, '.portions-input', '10');
    await fire(page.querySelectorAll('.save-portions')[0]);
    expect(mock.toasts()).toContain('份数不能少于已订出的份数');
    expect(page.instance.data.menu.items[0].input).toBe('80');

    await input(page, '.portions-input', '1.5');
    await fire(page.querySelectorAll('.save-portions')[0]);
    expect(mock.toasts()).toContain('份数应为 0 到 100000 的整数');
    expect(mock.calls('PUT', '/api/v1/canteen/menu-items/101/portions')).toHaveLength(2);
  });

  test('no menu yet: pick dishes, portions and caps, 发布菜单 after a confirm; then it shows as published', async () => {
    let published = null;
    mock.route('GET', '/api/v1/canteen/menus', () => [200, published ? [published] : []]);
    mock.route('POST', '/api/v1/canteen/menus', req => {
      published = ct.menu({ items: req.data.items.map((i, n) => ct.item({ id: 300 + n, dish_id: i.dish_id, portions: i.portions, remaining: i.portions, max_per_person: i.max_per_person })) });
      return [201, published];
    });
    const page = await openMenuTab();
    expect(page.querySelectorAll('.draft-item')).toHaveLength(3);
    await fire(page.querySelector('.publish'));
    expect(mock.toasts()).toContain('请至少选择一道菜');

    await fire(page.querySelectorAll('.toggle')[0]);
    await fire(page.querySelectorAll('.toggle')[2]);
    await input(page, '.draft-portions', '120', 0);
    await input(page, '.draft-cap', '25', 1);
    await fire(page.querySelector('.publish'));
    expect(mock.toasts()).toContain('牛肉面：份数 0–100000，每人限购 1–20');
    expect(mock.calls('POST', '/api/v1/canteen/menus')).toHaveLength(0);

    await input(page, '.draft-cap', '1', 1);
    await fire(page.querySelector('.publish'));
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '发布菜单' }));
    expect(mock.calls('POST', '/api/v1/canteen/menus')[0].data).toEqual({
      canteen_id: 1, day: schoolDate(0), meal: 'lunch',
      items: [{ dish_id: 1, portions: 120, max_per_person: 2 }, { dish_id: 3, portions: 50, max_per_person: 1 }],
    });
    expect(text(page)).toContain('已发布');
    expect(page.querySelectorAll('.menu-item')).toHaveLength(2);
  });

  test('publishing can be called off at the confirm', async () => {
    mock = installWx({ confirm: false });
    tokens.save(fx.tokens('c', ct.canteenStaff()));
    mock.route('GET', '/api/v1/canteen/canteens', [200, [{ id: 1, name: '第一食堂', location: '' }]]);
    mock.route('GET', '/api/v1/canteen/canteens/1/windows', [200, ct.WINDOWS]);
    mock.route('GET', '/api/v1/canteen/canteens/1/dishes', [200, DISHES]);
    mock.route('GET', '/api/v1/canteen/menus', [200, []]);
    const page = await openMenuTab();
    await fire(page.querySelectorAll('.toggle')[0]);
    await fire(page.querySelector('.publish'));
    expect(mock.calls('POST', '/api/v1/canteen/menus')).toHaveLength(0);
  });

  test('复制本周菜单到下周 copies the chosen day\'s week, from its Monday', async () => {
    mock.route('POST', '/api/v1/canteen/menus/copy-week', [201, [ct.menu(), ct.menu({ id: 23 }), ct.menu({ id: 24 })]]);
    const page = await openMenuTab();
    await fire(page.querySelector('.copy-week'));
    // the fixed clock's school day is Wednesday 2026-10-14 (also at 00:30): its week starts on the 12th
    expect(mock.calls('POST', '/api/v1/canteen/menus/copy-week')[0].data).toEqual({ canteen_id: 1, week_start: '2026-10-12' });
    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ content: expect.stringContaining('10月12日') }));
    expect(mock.toasts()).toContain('已复制 3 个菜单');

    await fire(page.querySelectorAll('.day')[5]); // Monday the 19th: its own week
    await fire(page.querySelector('.copy-week'));
    expect(mock.calls('POST', '/api/v1/canteen/menus/copy-week')[1].data.week_start).toBe('2026-10-19');
  });
});
