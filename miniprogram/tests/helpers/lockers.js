// Parcels, banks and compartments shaped like the lockers API's answers. Times are relative to the test's
// clock, so the same test holds at 00:30 and at 12:00 school time.
const HOUR = 3600 * 1000;
const iso = ms => new Date(ms).toISOString();

const LABELS = { depositing: '投递中', stored: '待取件', picked_up: '已取件', to_return: '待退回', returned: '已退回' };

// A parcel of mine in a locker, stored two hours ago, unless overridden.
function parcel(overrides) {
  const o = Object.assign({ status: 'stored' }, overrides);
  const now = Date.now();
  const stored = o.status === 'stored';
  return Object.assign(
    {
      id: 31,
      tracking_no: 'SF1000000001',
      status: o.status,
      status_label: LABELS[o.status],
      storage: 'locker',
      bank_id: 1,
      bank_name: 'B1 号快递柜',
      place_name: '东校区 › 行政楼',
      compartment: 'A03',
      shelf_code: null,
      size: 'M',
      pickup_code: stored ? '482913' : null,
      shared_with: null,
      stored_at: iso(now - 2 * HOUR),
      picked_up_at: o.status === 'picked_up' ? iso(now - 60 * 1000) : null,
      fee_due_fen: 0,
    },
    o.raw
  );
}

function atCounter(overrides) {
  return parcel({ raw: Object.assign({ id: 32, storage: 'counter', compartment: null, shelf_code: 'H00032' }, overrides) });
}

function bank(overrides) {
  return Object.assign(
    { id: 1, code: 'B1', name: 'B1 号快递柜', place_id: 5, place_name: '东校区 › 行政楼', online: true, free: { S: 3, M: 0, L: 1 }, out_of_service: 0, parcels_waiting: 4 },
    overrides
  );
}

function payment(status) {
  return {
    payment: { id: 51, biz_type: 'lockers.fee', biz_id: 31, amount_fen: 100, description: '快递超期保管费 SF1000000001', status, status_label: status },
    refunds: [],
  };
}

const PARAMS = { appId: 'wxapp', timeStamp: '1791000000', nonceStr: 'n', package: 'prepay_id=wx3', signType: 'RSA', paySign: 'sig' };

const user = require('./fixtures').user;
const courier = () => user({ id: 8, nickname: '刘快递', roles: ['courier'], person: { kind: 'staff', name: '刘快递', number: 'K0001', department: null, class_name: null } });
const stationStaff = () => user({ id: 10, nickname: '孙主任', roles: ['admin', 'teacher'], person: { kind: 'staff', name: '孙主任', number: 'A0001', department: '后勤处', class_name: null } });

const pages = total => ({ 'X-Pagination': JSON.stringify({ total, total_pages: total ? 1 : 0, page: 1 }) });

module.exports = { parcel, atCounter, bank, payment, PARAMS, courier, stationStaff, pages, HOUR };
