// Times arrive as ISO 8601 strings (UTC-aware from the API) and are shown in the school's zone,
// Asia/Shanghai (UTC+8, no daylight saving since 1991), whatever zone the phone is set to.
// Parsing is done here because iOS rejects some ISO forms (microseconds, a space for "T").

const SCHOOL_OFFSET_MS = 8 * 60 * 60 * 1000;
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

// -> epoch milliseconds, or NaN. A string without an offset is school (Shanghai) wall time.
function parseISO(value) {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  const m = ISO_RE.exec(String(value || '').trim());
  if (!m) return NaN;
  const ms = m[7] ? Number((m[7] + '00').slice(0, 3)) : 0;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0), ms);
  const zone = m[8];
  if (!zone) return wall - SCHOOL_OFFSET_MS;
  if (zone.toUpperCase() === 'Z') return wall;
  const digits = zone.replace(':', '');
  const offset = (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * MINUTE;
  return digits.charAt(0) === '+' ? wall - offset : wall + offset;
}

// Calendar fields of an instant as seen in Shanghai.
function schoolParts(epochMs) {
  const d = new Date(epochMs + SCHOOL_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

function pad(n) {
  return (n < 10 ? '0' : '') + n;
}

// "11月21日 14:30"; a year other than the current one is spelled out: "2024年11月21日 14:30".
function formatDateTime(value, now) {
  const t = parseISO(value);
  if (isNaN(t)) return '';
  const p = schoolParts(t);
  const year = p.year !== schoolParts(now === undefined ? Date.now() : parseISO(now)).year ? p.year + '年' : '';
  return year + p.month + '月' + p.day + '日 ' + pad(p.hour) + ':' + pad(p.minute);
}

// "刚刚", "3分钟前", "2小时前", "昨天 09:05", "3天前", else formatDateTime.
function formatRelative(value, now) {
  const t = parseISO(value);
  if (isNaN(t)) return '';
  const current = now === undefined ? Date.now() : parseISO(now);
  const diff = current - t;
  if (diff < -MINUTE) return formatDateTime(t, current);
  if (diff < MINUTE) return '刚刚';
  if (diff < HOUR) return Math.floor(diff / MINUTE) + '分钟前';
  const dayOf = ms => Math.floor((ms + SCHOOL_OFFSET_MS) / DAY);
  const days = dayOf(current) - dayOf(t);
  if (days === 0) return Math.floor(diff / HOUR) + '小时前';
  if (days === 1) {
    const p = schoolParts(t);
    return '昨天 ' + pad(p.hour) + ':' + pad(p.minute);
  }
  if (days < 7) return days + '天前';
  return formatDateTime(t, current);
}

// "14:30" in school time.
function formatClock(value) {
  const t = parseISO(value);
  if (isNaN(t)) return '';
  const p = schoolParts(t);
  return pad(p.hour) + ':' + pad(p.minute);
}

// The school's calendar day of an instant (default now) plus `days`: 'YYYY-MM-DD'. Never the
// phone's zone: at 00:30 in Shanghai it is still the day before in UTC.
function schoolDate(days, now) {
  const base = now === undefined ? Date.now() : parseISO(now);
  const p = schoolParts(base + (days || 0) * DAY);
  return p.year + '-' + pad(p.month) + '-' + pad(p.day);
}

// The week day of a 'YYYY-MM-DD': 0 (Sunday) … 6.
function weekday(date) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDay();
}

module.exports = { parseISO, schoolParts, formatDateTime, formatRelative, formatClock, schoolDate, weekday };
