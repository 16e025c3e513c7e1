const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');
const subscribe = require('../../services/subscribe');

const PAGE = 'packageRepairs/pages/report/report';
const TEMPLATES = [
  { event: 'repairs.status', template_id: 'tpl-status', title: '报修进度通知' },
  { event: 'repairs.task', template_id: 'tpl-task', title: '维修任务提醒' },
];

let mock;

beforeEach(() => {
  mock = installWx();
  subscribe.reset();
  tokens.save(fx.tokens('a'));
  mock.route('GET', '/api/v1/repairs/categories', [200, fx.CATEGORIES]);
  mock.route('GET', '/api/v1/notifications/templates', [200, TEMPLATES]);
  mock.route('POST', '/api/v1/notifications/subscriptions', [200, { remaining: {} }]);
  mock.route('GET', '/api/v1/places/14', [200, fx.place()]);
});

async function openReport(query) {
  const page = render(PAGE);
  await page.instance.onLoad(query || {});
  return page;
}

// A filled-in form for place 14 (from the place page), category 水电.
async function filledReport() {
  const page = await openReport({ place_id: '14' });
  await fire(page.querySelectorAll('.category')[0]);
  page.instance.setData({ description: '灯管不亮', phone: '13800000001' });
  return page;
}

const created = (repair, linked) => [linked ? 200 : 201, { linked: Boolean(linked), repair }];

describe('我要报修', () => {
  test('shows the categories with icons, and the place given by the place page', async () => {
    const page = await openReport({ place_id: '14' });

    expect(page.querySelectorAll('.category__name').map(n => n.dom.textContent)).toEqual(['水电', '木工', '其他']);
    expect(page.querySelectorAll('.category__icon').map(n => n.dom.textContent)).toEqual(['💡', '🪚', '🔧']);
    expect(page.querySelector('.place').dom.textContent).toBe('东校区 › 行政楼 › 3F › 301');
  });

  test('an empty form says what is missing, in Chinese, and sends nothing', async () => {
    await subscribe.preload();
    const page = await openReport();
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-category').dom.textContent).toBe('请选择报修类别');
    expect(page.querySelector('.error-place').dom.textContent).toBe('请选择报修地点');
    expect(page.querySelector('.error-description').dom.textContent).toBe('请描述问题');
    expect(page.querySelector('.error-phone').dom.textContent).toBe('请填写联系电话');
    expect(mock.toasts()).toEqual(['请选择报修类别']);
    expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);
    expect(mock.wx.requestSubscribeMessage).not.toHaveBeenCalled();
  });

  test('a bad phone number and a one-letter description are refused', async () => {
    const page = await filledReport();
    page.instance.setData({ description: '灯', phone: '12' });
    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-description').dom.textContent).toBe('问题描述至少2个字');
    expect(page.querySelector('.error-phone').dom.textContent).toBe('请填写正确的联系电话');
    expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);
  });

  test('提交 asks for the progress message first, in the tap, then creates and opens the detail', async () => {
    await subscribe.preload();
    const order = [];
    mock.wx.requestSubscribeMessage.mockImplementation(o => {
      order.push('subscribe:' + o.tmplIds.join(','));
      setTimeout(() => o.success({ 'tpl-status': 'accept' }), 0);
    });
    mock.route('POST', '/api/v1/repairs', req => {
      order.push('create');
      return created(fx.repair({ id: 42 }));
    });
    const page = await filledReport();
    page.instance.setData({ urgent: true, preferredTime: '工作日下午' });

    page.instance.onSubmit();
    expect(order).toEqual(['subscribe:tpl-status']); // synchronously, before any request
    await fire(page.querySelector('.page'), 'noop');

    expect(order).toEqual(['subscribe:tpl-status', 'create']);
    expect(mock.calls('POST', '/api/v1/repairs')[0].data).toEqual({
      category_id: 1,
      place_id: 14,
      description: '灯管不亮',
      urgency: 'urgent',
      contact_phone: '13800000001',
      preferred_time: '工作日下午',
      photo_ids: [],
      insist: false,
    });
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=42' });
  });

  test('photos upload one by one with progress; a failed one can be retried, then its id is sent', async () => {
    mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 43 })));
    const page = await filledReport();
    mock.chooseMedia(['tmp/a.jpg', 'tmp/b.jpg']);

    await fire(page.querySelector('.photo--add'));

    expect(mock.wx.chooseMedia).toHaveBeenCalledWith(expect.objectContaining({ count: 9, sizeType: ['compressed'], mediaType: ['image'] }));
    expect(mock.uploads.map(u => [u.path, u.filePath, u.name])).toEqual([
      ['/api/v1/repairs/photos', 'tmp/a.jpg', 'file'],
      ['/api/v1/repairs/photos', 'tmp/b.jpg', 'file'],
    ]);
    expect(mock.uploads[0].header.Authorization).toBe('Bearer access-a');

    mock.uploads[0].progress(40);
    await fire(page.querySelector('.page'), 'noop');
    expect(page.querySelectorAll('.photo__progress').map(n => n.dom.textContent)).toEqual(['40%', '0%']);

    // 提交 while uploading: wait
    await fire(page.querySelector('#submit'));
    expect(mock.toasts()).toContain('照片正在上传，请稍候');

    mock.uploads[0].succeed(201, { id: 71, kind: null, url: '/u/71', thumb_url: '/u/71', width: 10, height: 10 });
    mock.uploads[1].fail('uploadFile:fail timeout');
    await fire(page.querySelector('.page'), 'noop');
    expect(page.querySelectorAll('.photo--failed')).toHaveLength(1);
    expect(text(page)).toContain('上传失败');

    await fire(page.querySelector('#submit'));
    expect(mock.toasts()).toContain('有照片上传失败，请重试或删除');
    expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);

    await fire(page.querySelector('.photo__retry'));
    expect(mock.uploads).toHaveLength(3);
    expect(mock.uploads[2].filePath).toBe('tmp/b.jpg');
    mock.uploads[2].succeed(201, { id: 72 });
    await fire(page.querySelector('.page'), 'noop');
    expect(page.querySelectorAll('.photo--done')).toHaveLength(2);

    await fire(page.querySelector('#submit'));
    expect(mock.calls('POST', '/api/v1/repairs')[0].data.photo_ids).toEqual([71, 72]);
  });

  test('a failed photo can be removed instead', async () => {
    mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 44 })));
    mock.autoUpload(() => [422, envelope(422, 'uploads.not_an_image', '文件不是图片')]);
    const page = await filledReport();
    mock.chooseMedia(['tmp/a.txt']);
    await fire(page.querySelector('.photo--add'));
    expect(page.querySelectorAll('.photo--failed')).toHaveLength(1);
    expect(page.instance.data.photos[0].error).toBe('文件不是图片');

    await fire(page.querySelector('.photo__remove'));
    expect(page.querySelectorAll('.photo--failed')).toHaveLength(0);
    await fire(page.querySelector('#submit'));
    expect(mock.calls('POST', '/api/v1/repairs')[0].data.photo_ids).toEqual([]);
  });

  test('duplicate guard: 查看 opens the open repair', async () => {
    mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 9, description: '灯管闪烁', linked: true }), true));
    mock.wx.showModal.mockImplementation(o => setTimeout(() => o.success({ confirm: true, cancel: false }), 0));
    const page = await filledReport();

    await fire(page.querySelector('#submit'));

    expect(mock.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '该房间已有同类报修正在处理', confirmText: '查看', cancelText: '仍然提交' }));
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=9' });
    expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(1);
  });

  test('duplicate guard: 仍然提交 uploads the photos again and insists', async () => {
    let n = 80;
    mock.autoUpload(() => [201, { id: (n += 1) }]);
    mock.route('POST', '/api/v1/repairs', req => (req.data.insist ? created(fx.repair({ id: 10 })) : created(fx.repair({ id: 9 }), true)));
    mock.wx.showModal.mockImplementation(o => setTimeout(() => o.success({ confirm: false, cancel: true }), 0));
    const page = await filledReport();
    mock.chooseMedia(['tmp/a.jpg']);
    await fire(page.querySelector('.photo--add'));

    await fire(page.querySelector('#submit'));

    const posts = mock.calls('POST', '/api/v1/repairs');
    expect(posts.map(p => [p.data.insist, p.data.photo_ids])).toEqual([
      [false, [81]],
      [true, [82]],
    ]);
    expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=10' });
  });

  test('server field errors land on the form', async () => {
    mock.route('POST', '/api/v1/repairs', [422, envelope(422, 'repairs.unknown_place', '请选择报修地点', { json: { place_id: ['请选择报修地点'] } })]);
    const page = await filledReport();

    await fire(page.querySelector('#submit'));

    expect(page.querySelector('.error-place').dom.textContent).toBe('请选择报修地点');
  });

  test('browse down to a room, or scan the room code', async () => {
    mock.route('GET', '/api/v1/places', req => {
      const kids = {
        undefined: [{ id: 1, name: '东校区', kind: 'campus', code: 'E', parent_id: null }],
        1: [{ id: 5, name: '行政楼', kind: 'building', code: 'E-ADM', parent_id: 1 }],
        5: [{ id: 14, name: '301', kind: 'room', code: 'E-ADM-301', parent_id: 5 }],
      };
      return [200, kids[req.data.parent_id]];
    });
    const page = await openReport();

    await fire(page.querySelector('#browse'));
    await fire(page.querySelector('.child'));
    await fire(page.querySelector('.child'));
    expect(page.querySelectorAll('.trail__item').map(n => n.dom.textContent.trim())).toEqual(['全部', '› 东校区', '› 行政楼']);
    await fire(page.querySelector('.child'));
    expect(page.instance.data.place).toEqual({ id: 14, name: '301', fullName: '东校区 › 行政楼 › 301' });
    expect(page.querySelector('.place').dom.textContent).toBe('东校区 › 行政楼 › 301');

    mock.route('GET', '/api/v1/places/by-code/E-ADM-302', [200, fx.place({ id: 15, code: 'E-ADM-302', name: '302', full_name: '东校区 › 行政楼 › 3F › 302' })]);
    mock.wx.scanCode.mockImplementation(o => o.success({ path: 'pages/index/index?scene=' + encodeURIComponent('p=E-ADM-302') }));
    await fire(page.querySelector('#scan'));
    expect(page.instance.data.place.id).toBe(15);
  });

  describe('the same problem already reported (GET /repairs/open-check)', () => {
    const OPEN_CHECK = '/api/v1/repairs/open-check';
    const openOne = overrides => [200, Object.assign({ open: true, repair_id: 9, status: 'assigned', status_label: '待接单', created_at: new Date(Date.now() - 20 * 60 * 1000).toISOString(), mine: false }, overrides)];

    function openFor(categoryId, answer) {
      mock.route('GET', OPEN_CHECK, req => (req.data.category_id === categoryId ? answer : [200, { open: false }]));
    }

    test('once place and category are chosen the form asks, and says so under the place', async () => {
      openFor(1, openOne());
      const page = await filledReport();

      expect(mock.calls('GET', OPEN_CHECK).map(r => r.data)).toEqual([{ place_id: 14, category_id: 1 }]);
      expect(page.querySelector('.open-repair__title').dom.textContent).toBe('该位置已有相同类型的报修正在处理');
      expect(text(page)).toContain('待接单 · 20分钟前报修');
      await fire(page.querySelector('.open-repair'));
      expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=9' });

      await fire(page.querySelectorAll('.category')[1]); // 木工: nothing open
      expect(page.querySelector('.open-repair')).toBeUndefined();
    });

    test('提交 asks again and offers 关注该报修: the report joins the open one with its photos, uploaded once', async () => {
      let n = 80;
      mock.autoUpload(() => [201, { id: (n += 1) }]);
      openFor(1, openOne());
      mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 9, linked: true }), true));
      const page = await filledReport();
      mock.chooseMedia(['tmp/a.jpg']);
      await fire(page.querySelector('.photo--add'));

      await fire(page.querySelector('#submit'));

      expect(mock.calls('GET', OPEN_CHECK)).toHaveLength(2);
      expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);
      expect(page.querySelector('.duplicate__title').dom.textContent).toBe('该位置已有相同类型的报修正在处理');
      expect(page.querySelector('#follow').dom.textContent).toBe('关注该报修');
      expect(page.querySelector('#insist').dom.textContent).toBe('仍然提交');

      await fire(page.querySelector('#follow'));

      expect(mock.calls('POST', '/api/v1/repairs').map(p => [p.data.insist, p.data.photo_ids])).toEqual([[false, [81]]]);
      expect(mock.uploads).toHaveLength(1);
      expect(mock.toasts()).toContain('已关注该报修');
      expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=9' });
      expect(mock.wx.showModal).not.toHaveBeenCalled();
    });

    test('仍然提交 creates a new repair with the photos already uploaded', async () => {
      let n = 80;
      mock.autoUpload(() => [201, { id: (n += 1) }]);
      openFor(1, openOne());
      mock.route('POST', '/api/v1/repairs', req => (req.data.insist ? created(fx.repair({ id: 10 })) : created(fx.repair({ id: 9 }), true)));
      const page = await filledReport();
      mock.chooseMedia(['tmp/a.jpg', 'tmp/b.jpg']);
      await fire(page.querySelector('.photo--add'));

      await fire(page.querySelector('#submit'));
      await fire(page.querySelector('#insist'));

      expect(mock.calls('POST', '/api/v1/repairs').map(p => [p.data.insist, p.data.photo_ids])).toEqual([[true, [81, 82]]]);
      expect(mock.uploads).toHaveLength(2);
      expect(mock.toasts()).toContain('报修已提交');
      expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=10' });
      expect(page.querySelector('.duplicate')).toBeUndefined();
    });

    test('my own open report: the note is added to it', async () => {
      openFor(1, openOne({ mine: true }));
      mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 9 }), true));
      const page = await filledReport();

      await fire(page.querySelector('#submit'));
      expect(text(page)).toContain('这是你之前提交的报修');
      expect(page.querySelector('#follow').dom.textContent).toBe('补充到该报修');
      await fire(page.querySelector('#follow'));

      expect(mock.toasts()).toContain('已补充到原报修');
      expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=9' });
    });

    test('取消 sends nothing; the form stays as it was', async () => {
      openFor(1, openOne());
      const page = await filledReport();

      await fire(page.querySelector('#submit'));
      await fire(page.querySelector('#dup-cancel'));

      expect(page.querySelector('.duplicate')).toBeUndefined();
      expect(mock.calls('POST', '/api/v1/repairs')).toHaveLength(0);
      expect(page.instance.data.description).toBe('灯管不亮');
      expect(page.instance.data.submitting).toBe(false);
    });

    test('the open repair closed meanwhile: 关注该报修 ends as a new report', async () => {
      openFor(1, openOne());
      mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 11 })));
      const page = await filledReport();

      await fire(page.querySelector('#submit'));
      await fire(page.querySelector('#follow'));

      expect(mock.toasts()).toContain('报修已提交');
      expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=11' });
    });

    test('a check that fails does not stop the report', async () => {
      mock.route('GET', OPEN_CHECK, { fail: 'request:fail' });
      mock.route('POST', '/api/v1/repairs', created(fx.repair({ id: 12 })));
      const page = await filledReport();

      await fire(page.querySelector('#submit'));

      expect(mock.calls('POST', '/api/v1/repairs')[0].data.insist).toBe(false);
      expect(mock.wx.redirectTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/detail/detail?id=12' });
      expect(mock.toasts()).toEqual(['报修已提交']);
    });
  });
});

