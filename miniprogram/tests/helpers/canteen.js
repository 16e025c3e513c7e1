// Menus and orders shaped like the canteen API's answers. Times are relative to the test's clock, so
// the same test holds at 00:30 and at 12:00 school time.
const { schoolDate } = require('../../utils/time');

const HOUR = 3600 * 1000;
const iso = ms => new Date(ms).toISOString();

function item(overrides) {
  return Object.assign(
    {
      id: 101,
      dish_id: 1,
      name: '红烧肉',
      window_id: 1,
      window_name: '一号窗口',
      tags: ['招牌'],
      allergens: [],
      prices: { staff: 1200, student: 1000, external: 1500 },
      portions: 50,
      remaining: 3,
      max_per_person: 2,
      photo_url: null,
      thumb_url: null,
    },
    overrides
  );
}

// A dish as GET /canteen/canteens/{id}/dishes answers it (photo URLs signed and relative to the API host).
function dish(overrides) {
  return Object.assign(
    { id: 1, canteen_id: 1, window_id: 1, name: '红烧肉', price_fen: 1200, tags: ['招牌'], allergens: [], photo_url: null, thumb_url: null },
    overrides
  );
}

const WINDOWS = [
  { id: 1, canteen_id: 1, name: '一号窗口', sort_order: 0 },
  { id: 2, canteen_id: 1, name: '二号窗口', sort_order: 1 },
];

// An open menu (cut-off in an hour) unless {open: false}.
function menu(overrides) {
  const o = Object.assign({ open: true }, overrides);
  const now = Date.now();
  const closes = o.open ? now + HOUR : now - HOUR;
  return Object.assign(
    {
      id: 21,
      canteen_id: 1,
      canteen_name: '第一食堂',
      day: schoolDate(0),
      meal: 'lunch',
      meal_label: '午餐',
      max_per_order: 5,
      orders_close_at: iso(closes),
      cancel_until: iso(closes),
      pickup_from: iso(closes + 2 * HOUR),
      pickup_until: iso(closes + 4 * HOUR),
      open: o.open,
      price_group: 'staff', // the caller's: a teacher
      items: [
        item(),
        item({ id: 102, dish_id: 2, name: '番茄炒蛋', prices: { staff: 600, student: 500, external: 800 }, remaining: 20, max_per_person: 3 }),
        item({ id: 103, dish_id: 3, name: '清蒸鱼', window_id: 2, window_name: '二号窗口', remaining: 0, tags: [] }),
      ],
    },
    overrides
  );
}

const LABELS = { pending_payment: '待支付', paid: '待取餐', picked_up: '已取餐', expired: '已超时', cancelled: '已取消', no_show: '未取餐' };

// An order of mine; its cancel deadline an hour away unless {cancellable: false}.
function order(overrides) {
  const o = Object.assign({ status: 'paid', cancellable: true }, overrides);
  const now = Date.now();
  const paid = o.status === 'paid';
  return Object.assign(
    {
      id: 7,
      status: o.status,
      status_label: LABELS[o.status],
      canteen_id: 1,
      canteen_name: '第一食堂',
      menu_id: 21,
      day: schoolDate(0),
      meal: 'lunch',
      meal_label: '午餐',
      price_group: 'staff',
      total_fen: 3000,
      payment_id: 41,
      expires_at: iso(now + 10 * 60 * 1000),
      cancel_until: iso(o.cancellable ? now + HOUR : now - HOUR),
      pickup_from: iso(now + 2 * HOUR),
      pickup_until: iso(now + 4 * HOUR),
      pickup_code: paid ? '482913' : null,
      qr_token: paid ? 'tok-abcdefgh123' : null,
      paid_at: paid ? iso(now - 60 * 1000) : null,
      picked_up_at: o.status === 'picked_up' ? iso(now - 60 * 1000) : null,
      cancelled_at: null,
      created_at: iso(now - 2 * 60 * 1000),
      lines: [
        { menu_item_id: 101, dish_name: '红烧肉', window_name: '一号窗口', quantity: 2, unit_price_fen: 1200 },
        { menu_item_id: 102, dish_name: '番茄炒蛋', window_name: '一号窗口', quantity: 1, unit_price_fen: 600 },
      ],
    },
    overrides && overrides.raw
  );
}

function payment(status) {
  return {
    payment: { id: 41, biz_type: 'canteen.order', biz_id: 7, amount_fen: 3000, description: '第一食堂 午餐', status, status_label: status },
    refunds: [],
  };
}

const PARAMS = { appId: 'wxapp', timeStamp: '1791000000', nonceStr: 'n', package: 'prepay_id=wx2', signType: 'RSA', paySign: 'sig' };

const canteenStaff = () =>
  require('./fixtures').user({ id: 9, nickname: '赵师傅', roles: ['canteen'], person: { kind: 'staff', name: '赵师傅', number: 'C0001', department: '食堂', class_name: null } });

module.exports = { item, dish, WINDOWS, menu, order, payment, PARAMS, canteenStaff };
