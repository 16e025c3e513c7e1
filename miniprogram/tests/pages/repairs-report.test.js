const { installWx, envelope, flush } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');
const subscribe = require('../../services/subscribe');

const PAGE = 'packageRepairs/pages/report/report';
const OPEN_CHECK = '/api/v1/repairs/open-check';

let mock;

function setup(options) {
  mock = installWx(options);
  tokens.save(fx.tokens('a'));
  subscribe.reset();
  mock.route('GET', '/api/v1/repairs/categories', [200, fx.categories()]);
  mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
  mock.route('GET', '/api/v1/notifications/templates', [200, fx.templates()]);
  mock.route('GET', OPEN_CHECK, [200, { open: false }]);
  let photoId = 40;
  mock.route('POST', '/api/v1/repairs/photos', () => {
    photoId += 1;
    return [201, { id: photoId, kind: null, url: '/x', thumb_url: '/x', width: 1, height: 1 }];
  });
  mock.route('GET', '/api/v1/places', [200, []]);
  mock.route('POST', '/api/v1/notifications/subscriptions', [200, { remaining: { 'tpl-status': 1 } }]);
  mock.route('POST', '/api/v1/repairs', [201, { linked: false, repair: fx.repair({ id: 9 }) }]);
}

async function open(query) {
  const page = render(PAGE);
  await page.instance.onLoad(query || {});
  return page;
}

async function type(page, id, value) {
  await fire(page.querySelector('#' + id), 'input', { value });
}

async function fillIn(page) {
  await fire(page.querySelectorAll('.category')[0]);
  await type(page, 'description', '301 教室灯管不亮');
  await type(page, 'phone', '13800000001');
}

beforeEach(() => setup());

describe('我要报修', () => {
  test('category grid with icons; the place comes from the room QR code', async () => {
    const page = await open({ place: 'E-ADM-301' });

    expect(page.querySelectorAll('.category').map(c => c.dom.textContent.replace(/\s+/g, ''))).toEqual(['💡水电', '🪚木工', '🌐网络']);
    expect(page.querySelector('.place-name').dom.textContent).toBe('东校区 › 行政楼 › 3F › 301');
    expect(page.querySelectorAll('.level')).toHaveLength(0);
    expect(mock.calls('GET', '/api/v1/notifications/templates')).toHaveLength(1);
  });

  test('without a code the place is picked campus › building › floor › room', async () => {
    mock.route('GET', '/api/v1/places', req => {
      const parent = req.data.parent_id;
      const children = {
        undefined: [{ id: 1, name: '东校区', kind: 'campus' }],
        1: [{ id: 5, name: '行政楼', kind: 'building' }],
        5: [{ id: 9, name: '3F', kind: 'floor' }],
        9: [{ id: 14, name: '301', kind: 'room' }, { id: 15, name: '302', kind: 'room' }],
      };
      return [200, children[parent]];
    });
    const page = await open();
    for (let depth = 0; depth < 4; depth += 1) {
      const levels = page.querySelectorAll('.level');
      expect(levels).toHaveLength(depth + 1);
      await fire(levels[depth], 'change', { value: depth === 3 ? 1 : 0 });
    }

    expect(page.querySelectorAll('.level').map(l => l.dom.textContent.replace(/\s+/g, ''))).toEqual(['校区东校区›', '楼栋行政楼›', '楼层3F›', '房间302›']);
    expect(page.instance.data.place).toEqual({ id: 15, full_name: '东校区 › 行政楼 › 3F › 302' });
  });

  test('photos upload one by one with progress, then the report references their ids', async () => {
    setup({ media: ['wxfile://a.jpg', 'wxfile://b.jpg'] });
    const page = await open({ place: 'E-ADM-301' });
    await fillIn(page);

    const uploading = fire(page.querySelector('.photo--add'));
    await uploading;
    await flush();

    const uploads = mock.calls('POST', '/api/v1/repairs/photos');
    expect(uploads.map(u => [u.filePath, u.name])).toEqual([['wxfile://a.jpg', 'file'], ['wxfile://b.jpg', 'file']]);
    expect(uploads[0].header.Authorization).toBe('Bearer access-a');
    expect(mock.wx.chooseMedia.mock.calls[0][0]).toMatchObject({ count: 9, mediaType: ['image'], sizeType: ['compressed'] });
    expect(page.instance.data.photos.map(p => [p.id, p.progress, p.uploading])).toEqual([[41, 100, false], [42, 100, false]]);

    await fire(page.querySelector('#urgent'), 'change', { value: true });
    await fire(page.querySelector('#submit'));
    await flush();

    const [sent] = mock.calls('POST', '/api/v1/repairs');
    expect(sent.data).toEqual({
      category_id: 1, place_id: 14, description: '301 教室灯管不亮', contact_phone: '13800000001', urgency: 'urgent',
      preferred_time: '尽快', photo_ids: [41, 42], insist: false,
    });
    expect(mock.wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['tpl-status']);
    expect(mock.calls('POST', '/api/v1/notifications/subscriptions')[0].data).toEqual({ results: { 'tpl-status': 'accept' } });
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=9' });
  });

  test('a photo that fails to upload is marked and blocks the report until removed', async () => {
    mock.route('POST', '/api/v1/repairs/photos', [422, envelope(422, 'uploads.not_an_image', '只能上传图片（JPG、PNG、WebP）')]);
    const page = await open({ place: 'E-ADM-301' });
    await fillIn(page);
    await fire(page.querySelector('.photo--add'));
    await flush();

    expect(text(page)).toContain('上传失败');
    await fire(page.querySelector('#submit'));
    expect(page.querySelector('.error-photos').dom.textContent).toBe('有照片上传失败，请删除后重试');
    expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);

    await fire(page.querySelector('.photo__remove'));
    expect(page.instance.data.photos).toEqual([]);
  });

  test('missing fields are shown next to them and nothing is sent', async () => {
    const page = await open();
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-category').dom.textContent).toBe('请选择报修类别');
    expect(page.querySelector('.error-place').dom.textContent).toBe('请选择报修地点');
    expect(page.querySelector('.error-description').dom.textContent).toBe('请描述问题（至少2个字）');
    expect(page.querySelector('.error-phone').dom.textContent).toBe('请填写正确的联系电话');
    expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);
  });

  test('an open report of the same problem is shown; ticking 仍要单独报修 sends insist', async () => {
    mock.route('GET', OPEN_CHECK, req =>
      req.data.category_id === 1 ? [200, { open: true, repair_id: 3, status: 'accepted', status_label: '已接单', mine: false }] : [200, { open: false }]
    );
    const page = await open({ place: 'E-ADM-301' });
    await fillIn(page);

    expect(mock.calls('GET', OPEN_CHECK)[0].data).toEqual({ place_id: 14, category_id: 1 });
    expect(page.querySelector('.existing').dom.textContent).toContain('已有人报修（已接单）');
    await fire(page.querySelector('.insist-group'), 'change', { value: ['insist'] });
    await fire(page.querySelector('#submit'));
    await flush();

    expect(mock.calls('POST', '/api/v1/repairs')[0].data.insist).toBe(true);
  });

  test('a linked report says so and opens the repair it joined', async () => {
    mock.route('POST', '/api/v1/repairs', [200, { linked: true, repair: fx.repair({ id: 3, linked: true }) }]);
    const page = await open({ place: 'E-ADM-301' });
    await fillIn(page);
    await fire(page.querySelector('#submit'));
    await flush();

    expect(mock.wx.showToast).toHaveBeenCalledWith({ title: '已关联到现有报修', icon: 'success' });
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=3' });
  });

  test('a server refusal is shown on the form', async () => {
    mock.route('POST', '/api/v1/repairs', [422, envelope(422, 'repairs.invalid_photos', '照片不存在或已使用，请重新上传', { photo_ids: ['照片不存在或已使用，请重新上传'] })]);
    const page = await open({ place: 'E-ADM-301' });
    await fillIn(page);
    await fire(page.querySelector('#submit'));
    await flush();

    expect(page.querySelector('.form-error').dom.textContent).toBe('照片不存在或已使用，请重新上传');
    expect(page.querySelector('.error-photos').dom.textContent).toBe('照片不存在或已使用，请重新上传');
    expect(mock.wx.redirectTo).not.toHaveBeenCalled();
  });

  test('scanning a room code sets the place', async () => {
    mock.wx.scanCode.mockImplementation(o => o.success({ path: 'pages/index/index?scene=p%3DE-ADM-301', result: '' }));
    const page = await open();
    await fire(page.querySelector('.scan-place'));
    await flush();

    expect(page.instance.data.place).toEqual({ id: 14, full_name: '东校区 › 行政楼 › 3F › 301' });
  });
});
