// config/env.js: the develop base URL can come from this machine's config/local.js (git-ignored);
// trial and release never change. The real config/local.js of the machine running the tests is
// replaced by a mock in every test here.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const DEFAULT = 'http://127.0.0.1:5000';

// config/env.js loaded afresh, with `local` as config/local.js (null: no such file).
function loadEnv(local, envVersion) {
  let env;
  jest.isolateModules(() => {
    jest.doMock(
      '../config/local.js',
      () => {
        if (local === null) throw new Error("Cannot find module './local.js' from 'config/env.js'");
        return local;
      },
      { virtual: true }
    );
    env = require('../config/env');
  });
  global.wx = { getAccountInfoSync: () => ({ miniProgram: { envVersion: envVersion || 'develop' } }) };
  return env;
}

afterEach(() => {
  jest.dontMock('../config/local.js');
  jest.restoreAllMocks();
});

describe('the develop base URL', () => {
  test('without config/local.js: the make run default', () => {
    expect(loadEnv(null).getBaseUrl()).toBe(DEFAULT);
  });

  test('config/local.js developBaseUrl (another PORT, a LAN address) replaces it; a trailing / is dropped', () => {
    expect(loadEnv({ developBaseUrl: 'http://127.0.0.1:5050' }).getBaseUrl()).toBe('http://127.0.0.1:5050');
    expect(loadEnv({ developBaseUrl: ' http://192.168.1.20:5000/ ' }).getBaseUrl()).toBe('http://192.168.1.20:5000');
  });

  test('trial and release keep their URLs whatever config/local.js says', () => {
    const local = { developBaseUrl: 'http://192.168.1.20:5000' };
    const trial = loadEnv(local, 'trial');
    expect(trial.getBaseUrl()).toBe(trial.BASE_URLS.trial);
    const release = loadEnv(local, 'release');
    expect(release.getBaseUrl()).toBe(release.BASE_URLS.release);
    expect(release.BASE_URLS.release).toMatch(/^https:\/\//);
  });

  test('a value that is not an http(s) address is ignored, with a warning', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    expect(loadEnv({ developBaseUrl: '192.168.1.20:5000' }).getBaseUrl()).toBe(DEFAULT);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('developBaseUrl'));
    expect(loadEnv({ developBaseUrl: 'http://host:5000/?x=1' }).getBaseUrl()).toBe(DEFAULT);
    expect(loadEnv({}).getBaseUrl()).toBe(DEFAULT);
    expect(loadEnv({ developBaseUrl: 5000 }).getBaseUrl()).toBe(DEFAULT);
  });

  test('baseUrlFor is the rule itself; setBaseUrl (tests, e2e) still wins', () => {
    const env = loadEnv({ developBaseUrl: 'http://10.0.0.2:8000' });
    expect(env.baseUrlFor('develop', { developBaseUrl: 'https://dev.example.edu.cn/api-proxy/' })).toBe('https://dev.example.edu.cn/api-proxy');
    expect(env.baseUrlFor('develop', {})).toBe(DEFAULT);
    expect(env.baseUrlFor('release', { developBaseUrl: 'http://10.0.0.2:8000' })).toBe(env.BASE_URLS.release);
    env.setBaseUrl('http://api.test/');
    expect(env.getBaseUrl()).toBe('http://api.test');
    env.setBaseUrl(null);
    expect(env.getBaseUrl()).toBe('http://10.0.0.2:8000');
  });
});

describe('config/local.js is this machine\'s', () => {
  test('the committed example is a valid config (the default address)', () => {
    const example = require('../config/local.example.js');
    expect(loadEnv(example).getBaseUrl()).toBe(DEFAULT);
  });

  test('git ignores config/local.js', () => {
    const out = execFileSync('git', ['check-ignore', '--no-index', 'config/local.js'], { cwd: ROOT, encoding: 'utf8' });
    expect(out.trim()).toBe('config/local.js');
    expect(fs.existsSync(path.join(ROOT, 'config/local.example.js'))).toBe(true);
  });
});
