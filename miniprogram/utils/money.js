// Money is integer fen end to end; only the display turns it into yuan, with integer maths.

function toFen(value) {
  const fen = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof fen !== 'number' || !Number.isSafeInteger(fen)) {
    throw new TypeError('amount in fen must be an integer, got ' + value);
  }
  return fen;
}

// 1250 -> "12.50", -5 -> "-0.05"
function fenToYuan(value) {
  const fen = toFen(value);
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  return (fen < 0 ? '-' : '') + yuan + '.' + (cents < 10 ? '0' : '') + cents;
}

// 1250 -> "¥12.50", -1250 -> "-¥12.50"
function formatFen(value) {
  const text = fenToYuan(value);
  return text.charAt(0) === '-' ? '-¥' + text.slice(1) : '¥' + text;
}

// What someone typed as yuan -> integer fen, with string maths (no float rounding): "12" -> 1200,
// "12.5" -> 1250, " 0.05 " -> 5; anything else (more than two decimals, a sign, letters, "") -> null.
function yuanToFen(text) {
  const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(String(text === undefined || text === null ? '' : text).trim());
  if (!m) return null;
  return Number(m[1]) * 100 + Number(((m[2] || '') + '00').slice(0, 2));
}

module.exports = { fenToYuan, formatFen, yuanToFen };
