const { installWx, envelope } = require('../helpers/wx');
const { render, text, fire } = require('../helpers/page');
const fx = require('../helpers/fixtures');
const tokens = require('../../services/tokens');

const PAGE = 'packagePlaces/pages/place/place';

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a'));
});

async function openPlace(query) {
  const page = render(PAGE);
  await page.instance.onLoad(query);
  return page;
}

describe('场所', () => {
  test('?code= renders name, full path, code and the actions', async () => {
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
    const page = await openPlace({ code: 'E-ADM-301' });

    expect(page.querySelector('.place__name').dom.textContent).toBe('301');
    expect(page.querySelector('.place__kind').dom.textContent).toBe('房间');
    expect(page.querySelector('.place__path').dom.textContent).toBe('东校区 › 行政楼 › 3F › 301');
    expect(text(page)).toContain('场所编码：E-ADM-301');
    expect(text(page)).toContain('在这里报修');
    expect(mock.wx.setNavigationBarTitle).toHaveBeenCalledWith({ title: '301' });
  });

  test('a path that stops at the parent still ends with the place itself', async () => {
    const place = fx.place();
    place.path = place.path.slice(0, 3);
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, place]);
    const page = await openPlace({ code: 'E-ADM-301' });

    expect(page.querySelector('.place__path').dom.textContent).toBe('东校区 › 行政楼 › 3F › 301');
  });

  test('opened straight from the QR code scene', async () => {
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
    const page = await openPlace({ scene: encodeURIComponent('p=E-ADM-301') });

    expect(page.querySelector('.place__name').dom.textContent).toBe('301');
  });

  test('在这里报修 opens the report page with this place', async () => {
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [200, fx.place()]);
    const page = await openPlace({ code: 'E-ADM-301' });

    await fire(page.querySelector('.actions >>> .tile'));

    expect(mock.toasts()).toEqual([]);
    expect(mock.wx.navigateTo).toHaveBeenCalledWith({ url: '/packageRepairs/pages/report/report?place_id=14' });
  });

  test('an unknown code shows 未找到该场所', async () => {
    mock.route('GET', '/api/v1/places/by-code/NOPE', [404, envelope(404, 'not_found', '请求的内容不存在')]);
    const page = await openPlace({ code: 'NOPE' });

    expect(text(page)).toContain('未找到该场所');
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('an unbound user is sent to bind first', async () => {
    mock.route('GET', '/api/v1/places/by-code/E-ADM-301', [403, envelope(403, 'auth.not_bound', '请先绑定身份')]);
    const page = await openPlace({ code: 'E-ADM-301' });

    expect(text(page)).toContain('请先绑定身份');
    await fire(page.querySelector('#bind'));
    expect(mock.wx.switchTab).toHaveBeenCalledWith({ url: '/pages/me/me' });
  });

  test('no code at all: says so and calls nothing', async () => {
    const page = await openPlace({});

    expect(text(page)).toContain('无法识别的场所码');
    expect(mock.requests).toHaveLength(0);
  });
});
