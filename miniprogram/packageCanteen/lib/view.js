// How the canteen pages show menus and orders (money is integer fen; only the display shows yuan;
// times are school time through utils/time).
const { absoluteUrl } = require('../../api/upload');
const { fenToYuan, formatFen } = require('../../utils/money');
const { formatClock, formatDateTime, parseISO, schoolDate, weekday } = require('../../utils/time');

const MEALS = [
  { key: 'breakfast', label: '早餐', short: '早' },
  { key: 'lunch', label: '午餐', short: '午' },
  { key: 'dinner', label: '晚餐', short: '晚' },
];
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const STATUS_TONES = { pending_payment: 'warn', paid: 'pool', picked_up: 'done', expired: 'muted', cancelled: 'muted', no_show: 'muted' };
const STATUS_LABELS = { pending_payment: '待支付', paid: '待取餐', picked_up: '已取餐', expired: '已超时', cancelled: '已取消', no_show: '未取餐' };

// The date strip: today and the next 6 days. `dates` are 'YYYY-MM-DD' (utils/time.schoolDate).
function dateStrip(dates) {
  return dates.map((date, i) => ({
    date,
    label: i === 0 ? '今天' : i === 1 ? '明天' : WEEKDAYS[weekday(date)],
    day: Number(date.slice(8, 10)) + '日',
  }));
}

// The day and meal picker of the menu and the production sheet, as of now (call it in onLoad: a
// page defined before midnight must not keep yesterday's strip): today's lunch first.
function dayMealPicker() {
  const dates = [0, 1, 2, 3, 4, 5, 6].map(n => schoolDate(n));
  return { days: dateStrip(dates), date: dates[0], meals: MEALS, meal: 'lunch' };
}

// A dish at the price I pay: the server says my price group (the menus' `price_group`).
function item(raw, group, open) {
  const priceFen = raw.prices[group];
  const soldOut = raw.remaining <= 0;
  return {
    id: raw.id,
    name: raw.name,
    window: raw.window_name,
    tags: (raw.tags || []).join(' · '),
    allergens: (raw.allergens || []).length ? '含 ' + raw.allergens.join('、') : '',
    priceFen,
    price: formatFen(priceFen),
    remaining: raw.remaining,
    left: soldOut ? '已售罄' : '剩 ' + raw.remaining + ' 份',
    soldOut,
    // the most I may put in the cart: the per-person cap, the portions left
    cap: Math.max(0, Math.min(raw.max_per_person, raw.remaining)),
    capLabel: '每人限 ' + raw.max_per_person + ' 份',
    orderable: open && !soldOut,
    qty: 0,
    thumb: absoluteUrl(raw.thumb_url), // '' without a photo
  };
}

function menu(raw, now) {
  const group = raw.price_group || 'external';
  const open = raw.open && parseISO(raw.orders_close_at) > now;
  // "09:00 截止" today; another day's cut-off with its date (breakfast: 18:00 the day before)
  const sameDay = schoolDate(0, raw.orders_close_at) === schoolDate(0, now);
  const closes = sameDay ? formatClock(raw.orders_close_at) : formatDateTime(raw.orders_close_at, now);
  return {
    id: raw.id,
    canteen: raw.canteen_name,
    mealLabel: raw.meal_label,
    open,
    cutoff: open ? closes + ' 截止' : '已截止（' + closes + '）',
    pickup: pickupWindow(raw),
    maxPerOrder: raw.max_per_order,
    items: raw.items.map(i => item(i, group, open)),
  };
}

function pickupWindow(raw) {
  return formatDateTime(raw.pickup_from) + '–' + formatClock(raw.pickup_until);
}

function lineText(line) {
  return line.dish_name + ' × ' + line.quantity;
}

function order(raw, now) {
  const current = now === undefined ? Date.now() : now;
  const cancellable = (raw.status === 'pending_payment' || raw.status === 'paid') && parseISO(raw.cancel_until) > current;
  return {
    id: raw.id,
    status: raw.status,
    statusLabel: STATUS_LABELS[raw.status] || raw.status_label || raw.status,
    tone: STATUS_TONES[raw.status] || 'muted',
    title: raw.day.slice(5).replace('-', '月') + '日 ' + raw.meal_label,
    canteen: raw.canteen_name,
    total: formatFen(raw.total_fen),
    totalFen: raw.total_fen,
    summary: raw.lines.map(lineText).join('，'),
    lines: raw.lines.map(l => ({
      id: l.menu_item_id,
      name: l.dish_name,
      window: l.window_name,
      qty: l.quantity,
      amount: formatFen(l.unit_price_fen * l.quantity),
    })),
    windows: raw.lines
      .map(l => l.window_name)
      .filter((w, i, all) => all.indexOf(w) === i)
      .join('、'),
    pickup: pickupWindow(raw),
    cancelUntil: formatDateTime(raw.cancel_until, current),
    expiresAt: formatClock(raw.expires_at),
    code: raw.pickup_code || '',
    codeDigits: (raw.pickup_code || '').split(''),
    paymentId: raw.payment_id,
    payable: raw.status === 'pending_payment' && Boolean(raw.payment_id),
    paid: raw.status === 'paid',
    cancellable,
    pickedUpAt: raw.picked_up_at ? formatClock(raw.picked_up_at) : '',
  };
}

// What the staff scanned or typed -> {token} (the order's QR: a link "…canteen-pickup?token=…"),
// {code} (6 digits), or null.
function pickupTarget(text) {
  const value = String(text || '').trim();
  if (/^\d{6}$/.test(value)) return { code: value };
  const m = /canteen-pickup\?(?:.*&)?token=([^&#]+)/.exec(value);
  if (m) return { token: decodeURIComponent(m[1]) };
  return null;
}

// A dish as 菜单管理 lists and edits it (price shown in yuan; the API takes fen).
function dish(raw, windows) {
  const window = (windows || []).filter(w => w.id === raw.window_id)[0];
  return {
    id: raw.id,
    name: raw.name,
    windowId: raw.window_id,
    window: window ? window.name : '',
    priceFen: raw.price_fen,
    price: formatFen(raw.price_fen),
    yuan: fenToYuan(raw.price_fen),
    tags: (raw.tags || []).join('、'),
    allergens: (raw.allergens || []).join('、'),
    thumb: absoluteUrl(raw.thumb_url),
    photo: absoluteUrl(raw.photo_url),
  };
}

// "招牌、微辣" (or commas, spaces) -> ['招牌', '微辣']
function words(text) {
  return String(text || '')
    .split(/[,，、;；\s]+/)
    .map(w => w.trim())
    .filter(w => w);
}

// The Monday of the week of 'YYYY-MM-DD' (a calendar date: no time zone involved).
function mondayOf(date) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

// 'YYYY-MM-DD' -> '10月12日'
function monthDay(date) {
  return Number(date.slice(5, 7)) + '月' + Number(date.slice(8, 10)) + '日';
}

module.exports = { MEALS, dateStrip, dayMealPicker, menu, order, pickupTarget, dish, words, mondayOf, monthDay };
