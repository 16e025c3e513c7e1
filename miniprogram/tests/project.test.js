// The project opens in WeChat DevTools: every declared page and component exists, and app.js runs.
const fs = require('fs');
const path = require('path');
const { installWx, flush } = require('./helpers/wx');
const fx = require('./helpers/fixtures');

const ROOT = path.resolve(__dirname, '..');
const readJson = file => JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
const exists = file => fs.existsSync(path.join(ROOT, file));

const app = readJson('app.json');
const pages = app.pages.concat(...app.subPackages.map(pkg => pkg.pages.map(page => pkg.root + '/' + page)));

describe('project layout', () => {
  test.each(pages)('page %s has js, json, wxml and is built with Component()', page => {
    ['.js', '.json', '.wxml'].forEach(ext => expect(exists(page + ext)).toBe(true));
    expect(fs.readFileSync(path.join(ROOT, page + '.js'), 'utf8')).toMatch(/^Component\(\{/m);
    expect(readJson(page + '.json').usingComponents).toBeDefined();
  });

  test.each(pages)('components used by %s exist', page => {
    const using = readJson(page + '.json').usingComponents;
    Object.keys(using).forEach(tag => {
      const target = using[tag].charAt(0) === '/' ? using[tag].slice(1) : path.join(path.dirname(page), using[tag]);
      expect(readJson(target + '.json').component).toBe(true);
      expect(exists(target + '.js') && exists(target + '.wxml')).toBe(true);
    });
  });

  test('tab bar: 首页 / 消息 / 我的, and app settings', () => {
    expect(app.tabBar.list.map(t => [t.pagePath, t.text])).toEqual([
      ['pages/index/index', '首页'],
      ['pages/messages/messages', '消息'],
      ['pages/me/me', '我的'],
    ]);
    expect(app.useExtendedLib).toEqual({ weui: true });
    expect(app.lazyCodeLoading).toBe('requiredComponents');
    expect(exists(app.sitemapLocation)).toBe(true);
  });

  test('project.config.json: tourist appid, ES6 → ES5, tests and tooling not uploaded', () => {
    const project = readJson('project.config.json');
    expect(project).toMatchObject({ appid: 'touristappid', miniprogramRoot: './', compileType: 'miniprogram' });
    expect(project.setting).toMatchObject({ es6: true, enhance: true });
    const ignored = project.packOptions.ignore.map(rule => rule.value);
    ['node_modules', 'tests', 'jest.config.js', 'package.json', 'package-lock.json'].forEach(name => expect(ignored).toContain(name));
  });

  test('app.js logs in on launch and shows the unread count on the 消息 tab', async () => {
    const mock = installWx();
    mock.route('POST', '/api/v1/auth/wechat-login', [200, fx.tokens(1)]);
    mock.route('GET', '/api/v1/notifications/unread-count', [200, { unread: 120 }]);
    let definition = null;
    global.App = options => {
      definition = options;
    };
    require('../app');

    definition.onLaunch();
    definition.onShow();
    await flush();

    expect(mock.wx.login).toHaveBeenCalledTimes(1); // the badge request waited for the launch login
    expect(mock.wx.setTabBarBadge).toHaveBeenCalledWith(expect.objectContaining({ index: 1, text: '99+' }));
    expect(mock.storage.get('session.access_token')).toBe('access-1');
    // a bound user's subscribe-message templates are loaded ahead of any tap
    expect(mock.calls('GET', '/api/v1/notifications/templates')).toHaveLength(1);
    delete global.App;
  });
});
