// API base URL per mini-program environment (wx.getAccountInfoSync().miniProgram.envVersion).
// trial/release hosts are placeholders: replace them with the school's HTTPS API host, which must
// also be added to the mini-program's "request 合法域名" list in the WeChat admin console.
//
// develop: http://127.0.0.1:5000 (what `make run` serves by default), unless this machine's
// config/local.js (git-ignored; copy config/local.example.js) says otherwise:
//   module.exports = { developBaseUrl: 'http://192.168.1.20:5050' };
// — the address `make run` prints (with another PORT, or HOST=0.0.0.0 and the computer's LAN address
// for a phone). It changes the develop version only; trial and release always use BASE_URLS.
const BASE_URLS = {
  develop: 'http://127.0.0.1:5000',
  trial: 'https://trial-api.replace-with-school-domain.invalid',
  release: 'https://api.replace-with-school-domain.invalid',
};

const REQUEST_TIMEOUT_MS = 15000;

let overrideBaseUrl = null;

// config/local.js when this machine has one, else {}.
function readLocal() {
  try {
    return require('./local.js') || {};
  } catch (e) {
    return {};
  }
}

const LOCAL = readLocal();

function trimUrl(url) {
  return String(url).replace(/\/+$/, '');
}

// A usable base URL from config/local.js: http(s)://host[:port][/prefix], no query; else null.
function localDevelopUrl(local) {
  const url = local && local.developBaseUrl;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url.trim())) {
    if (url) console.warn('config/local.js: developBaseUrl 应为 http(s)://主机:端口，已忽略：' + url);
    return null;
  }
  return trimUrl(url.trim());
}

// The base URL of `version` ('develop' | 'trial' | 'release'), given the local settings.
function baseUrlFor(version, local) {
  if (version === 'trial' || version === 'release') return BASE_URLS[version];
  return localDevelopUrl(local) || BASE_URLS.develop;
}

function envVersion() {
  try {
    const info = wx.getAccountInfoSync();
    return (info && info.miniProgram && info.miniProgram.envVersion) || 'develop';
  } catch (e) {
    return 'develop';
  }
}

function getBaseUrl() {
  if (overrideBaseUrl) return overrideBaseUrl;
  return baseUrlFor(envVersion(), LOCAL);
}

// For tests (and the e2e run): point every request at another backend; null restores the default.
function setBaseUrl(url) {
  overrideBaseUrl = url ? trimUrl(url) : null;
}

module.exports = {
  BASE_URLS,
  REQUEST_TIMEOUT_MS,
  envVersion,
  baseUrlFor,
  getBaseUrl,
  setBaseUrl,
};
