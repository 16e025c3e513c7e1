// Page paths used by more than one page, and the in-app links messages carry.

const ME = '/pages/me/me';
const MESSAGES = '/pages/messages/messages';
const TAB_PAGES = ['/pages/index/index', MESSAGES, ME];

const GUARDIAN_REQUESTS = '/packageGuardians/pages/requests/requests';
const NOTICE = '/packageAdmin/pages/notice/notice';
const DELIVERIES = '/packageAdmin/pages/deliveries/deliveries';
const CONSOLE_LOGIN = '/packageAdmin/pages/console-login/console-login';

const REPAIR_REPORT = '/packageRepairs/pages/report/report';
const REPAIR_MINE = '/packageRepairs/pages/mine/mine';
const REPAIR_DETAIL = '/packageRepairs/pages/detail/detail';
const REPAIR_TASKS = '/packageRepairs/pages/tasks/tasks';
const REPAIR_QUEUE = '/packageRepairs/pages/queue/queue';
const REPAIR_COMPLETE = '/packageRepairs/pages/complete/complete';

const FEES = '/packageFees/pages/bills/bills';
const FEES_CASHIER = '/packageFees/pages/cashier/cashier';
const FEES_RESULT = '/packageFees/pages/result/result';
const FEES_HISTORY = '/packageFees/pages/history/history';
const FEES_RECEIPT = '/packageFees/pages/receipt/receipt';

const APP_PAGE_RE = /^\/(pages|package[A-Za-z0-9_]*)\/[A-Za-z0-9_/-]+(\?.*)?$/;
const MEETINGS = '/packageMeetings/pages';

function placeUrl(code) {
  return '/packagePlaces/pages/place/place?code=' + encodeURIComponent(code);
}

// The console sign-in code scanned: confirm or cancel signing the browser in.
function consoleLoginUrl(token) {
  return CONSOLE_LOGIN + '?token=' + encodeURIComponent(token);
}

const fees = {
  bills: () => FEES,
  // several bills of one student: ids in the query, the child (parents) too
  cashier: (billIds, studentId) => FEES_CASHIER + query({ bills: billIds.join(','), student: studentId }),
  result: (paymentId, billIds) => FEES_RESULT + query({ payment: paymentId, bills: billIds.join(',') }),
  history: () => FEES_HISTORY,
  // one bill's receipt, or several (a payment's bills)
  receipt: ids => FEES_RECEIPT + query({ ids: [].concat(ids).join(',') }),
};

const CANTEEN = '/packageCanteen/pages';
const CANTEEN_MENU = CANTEEN + '/menu/menu';
const CANTEEN_VERIFY = CANTEEN + '/verify/verify';
const CANTEEN_MANAGE = CANTEEN + '/manage/manage';

const canteen = {
  menu: () => CANTEEN_MENU,
  orders: () => CANTEEN + '/orders/orders',
  // `paying`: just paid (or not sure): the page asks the server until the payment is settled
  order: (id, paying) => CANTEEN + '/order/order' + query({ id, paying: paying ? '1' : '' }),
  verify: () => CANTEEN_VERIFY,
  production: () => CANTEEN + '/production/production',
  manage: () => CANTEEN_MANAGE,
};

const LOCKERS = '/packageLockers/pages';
const LOCKERS_PARCELS = LOCKERS + '/parcels/parcels';
const LOCKERS_DEPOSIT = LOCKERS + '/deposit/deposit';
const LOCKERS_STATION = LOCKERS + '/station/station';

function repairUrl(id) {
  return REPAIR_DETAIL + '?id=' + id;
}

// A message's link -> {url, tab} when it is a page of this mini-program ("/pages/…" or
// "/package…/…", the leading "/" optional), else null. Tab pages take no query (wx.switchTab).
function appPage(link) {
  const text = String(link || '').trim();
  const url = text.charAt(0) === '/' ? text : '/' + text;
  if (!APP_PAGE_RE.test(url)) return null;
  const path = url.split('?')[0];
  const tab = TAB_PAGES.indexOf(path) >= 0;
  return { url: tab ? path : url, tab };
}

function query(params) {
  const parts = Object.keys(params)
    .filter(key => params[key] !== undefined && params[key] !== null && params[key] !== '')
    .map(key => key + '=' + encodeURIComponent(params[key]));
  return parts.length ? '?' + parts.join('&') : '';
}

const meetings = {
  list: () => MEETINGS + '/list/list',
  detail: id => MEETINGS + '/detail/detail' + query({ id }),
  edit: id => MEETINGS + '/edit/edit' + query({ id }),
  series: id => MEETINGS + '/series/series' + query({ id }),
  editSeries: id => MEETINGS + '/edit/edit' + query({ series: id }),
  live: id => MEETINGS + '/live/live' + query({ id }),
  report: id => MEETINGS + '/report/report' + query({ id }),
  leaves: meetingId => MEETINGS + '/leaves/leaves' + query({ meeting: meetingId }),
  leave: id => MEETINGS + '/leave/leave' + query({ id }),
  // a scanned target: {type: 'checkin', code: token, geo} or {type: 'meeting', code}
  checkin: target =>
    MEETINGS +
    '/checkin/checkin' +
    (target.type === 'checkin' ? query({ t: target.code, g: target.geo ? '1' : '' }) : query({ code: target.code })),
};

module.exports = {
  meetings,
  canteen,
  CANTEEN_MENU,
  CANTEEN_VERIFY,
  CANTEEN_MANAGE,
  LOCKERS_PARCELS,
  LOCKERS_DEPOSIT,
  LOCKERS_STATION,
  fees,
  FEES,
  ME,
  MESSAGES,
  TAB_PAGES,
  GUARDIAN_REQUESTS,
  NOTICE,
  DELIVERIES,
  CONSOLE_LOGIN,
  REPAIR_REPORT,
  REPAIR_MINE,
  REPAIR_DETAIL,
  REPAIR_TASKS,
  REPAIR_QUEUE,
  REPAIR_COMPLETE,
  placeUrl,
  repairUrl,
  consoleLoginUrl,
  appPage,
};
