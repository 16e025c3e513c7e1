// What a scanned code points at.
//
// Mini-program codes (wxacode.getUnlimited) carry `scene` = "p=<placeCode>" or "m=<meetingCode>",
// URL-encoded in onLoad's query. A plain QR link opened in WeChat arrives as `q`, the whole
// encoded URL, e.g. q = encodeURIComponent("https://host/qr?p=A-301"). A meeting's rotating check-in
// code is a plain link "https://host/mp/checkin?t=<token>[&g=1]" (g=1: the meeting checks location).
// The managers' web console shows a one-time sign-in link "https://host/mp/console-login?token=<32>".
// Result: {type: 'place' | 'meeting', code}, {type: 'checkin', code: <token>, geo: bool},
// {type: 'console', code: <token>} or null.

const TYPES = { p: 'place', m: 'meeting' };
const CODE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN_RE = /^\d{1,12}\.\d{1,12}\.[a-z]\.[A-Za-z0-9_-]{16}$/;
const CONSOLE_TOKEN_RE = /^[A-Za-z0-9_-]{32}$/;

function safeDecode(text) {
  try {
    return decodeURIComponent(String(text).replace(/\+/g, ' '));
  } catch (e) {
    return String(text);
  }
}

// "a=1&b=2" -> {a: '1', b: '2'} (values decoded)
function parseQueryString(text) {
  const out = {};
  String(text || '')
    .replace(/^[?#]/, '')
    .split('&')
    .forEach(pair => {
      if (!pair) return;
      const eq = pair.indexOf('=');
      const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
      out[key] = eq < 0 ? '' : safeDecode(pair.slice(eq + 1));
    });
  return out;
}

function fromPairs(params) {
  if (params.t && TOKEN_RE.test(params.t)) return { type: 'checkin', code: params.t, geo: params.g === '1' };
  const keys = Object.keys(TYPES);
  for (let i = 0; i < keys.length; i += 1) {
    const code = params[keys[i]];
    if (code && CODE_RE.test(code)) return { type: TYPES[keys[i]], code };
  }
  return null;
}

// "p=A-301" (already decoded) -> {type: 'place', code: 'A-301'}
function parseSceneString(scene) {
  return fromPairs(parseQueryString(scene));
}

// A full link: its query may hold p/m directly or a `scene` parameter.
function parseLink(url) {
  const text = String(url || '');
  const q = text.indexOf('?');
  if (q < 0) return null;
  const params = parseQueryString(text.slice(q + 1).split('#')[0]);
  if (/\/console-login$/.test(text.slice(0, q)) && CONSOLE_TOKEN_RE.test(params.token || '')) {
    return { type: 'console', code: params.token };
  }
  return fromPairs(params) || (params.scene ? parseSceneString(params.scene) : null);
}

// onLoad(query) -> target or null
function parseScene(query) {
  if (!query) return null;
  if (query.scene) return parseSceneString(safeDecode(query.scene));
  if (query.q) return parseLink(safeDecode(query.q));
  return null;
}

// wx.scanCode result: a mini-program code gives `path` ("pages/index/index?scene=p%3DA-301"),
// a plain QR code gives `result` (the link text).
function parseScanResult(res) {
  if (!res) return null;
  if (res.path) {
    const q = res.path.indexOf('?');
    return q < 0 ? null : parseScene(parseQueryString(res.path.slice(q + 1)));
  }
  return parseLink(res.result);
}

module.exports = { CONSOLE_TOKEN_RE, parseQueryString, parseSceneString, parseLink, parseScene, parseScanResult };
