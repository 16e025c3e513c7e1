// API base URL per mini-program environment (wx.getAccountInfoSync().miniProgram.envVersion).
// trial/release hosts are placeholders: replace them with the school's HTTPS API host, which must
// also be added to the mini-program's "request 合法域名" list in the WeChat admin console.
const BASE_URLS = {
  develop: 'http://127.0.0.1:5000',
  trial: 'https://trial-api.replace-with-school-domain.invalid',
  release: 'https://api.replace-with-school-domain.invalid',
};

const REQUEST_TIMEOUT_MS = 15000;
const UPLOAD_TIMEOUT_MS = 60000; // a 10 MB photo on a slow campus network

let overrideBaseUrl = null;

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
  return BASE_URLS[envVersion()] || BASE_URLS.develop;
}

// For tests (and the e2e run): point every request at another backend; null restores the default.
function setBaseUrl(url) {
  overrideBaseUrl = url ? String(url).replace(/\/+$/, '') : null;
}

module.exports = {
  BASE_URLS,
  REQUEST_TIMEOUT_MS,
  UPLOAD_TIMEOUT_MS,
  envVersion,
  getBaseUrl,
  setBaseUrl,
};
