// The home-page tiles and who sees them. `roles: null` means every bound user.
// A tile with `ready: false` shows "即将上线" and does not navigate; a flow that ships flips the
// flag and sets `url` (a page to open) or `action` (handled by the home page, e.g. 'scan').

const { hasAnyRole } = require('./roles');
const routes = require('./routes');

const TILES = [
  { name: 'scan', title: '扫码', icon: '扫', color: '#07c160', roles: null, ready: true, action: 'scan' },
  {
    name: 'meetings',
    title: '会议签到',
    icon: '会',
    color: '#1989fa',
    // staff are invited to (and organise) staff meetings; students and parents to 班会 / 家长会
    // (their list shows the meetings they are invited to, without the organiser's actions)
    roles: null,
    ready: true,
    url: '/packageMeetings/pages/list/list',
  },
  { name: 'repair', title: '我要报修', icon: '修', color: '#ff976a', roles: null, ready: true, url: routes.REPAIR_REPORT },
  { name: 'repair-tasks', title: '维修任务', icon: '工', color: '#ee6723', roles: ['worker'], ready: true, url: routes.REPAIR_TASKS },
  { name: 'dispatch', title: '派单调度', icon: '派', color: '#7232dd', roles: ['dispatcher'], ready: true, url: routes.REPAIR_QUEUE },
  { name: 'meals', title: '订餐', icon: '餐', color: '#f2a93b', roles: ['teacher', 'student', 'parent'], ready: true, url: routes.CANTEEN_MENU },
  { name: 'canteen-verify', title: '食堂核销', icon: '核', color: '#d9822b', roles: ['canteen'], ready: true, url: routes.CANTEEN_VERIFY },
  { name: 'canteen-manage', title: '菜单管理', icon: '菜', color: '#e6a23c', roles: ['canteen'], ready: true, url: routes.CANTEEN_MANAGE },
  { name: 'lockers', title: '快递柜', icon: '柜', color: '#10aeff', roles: ['teacher', 'student'], ready: true, url: routes.LOCKERS_PARCELS },
  // couriers deposit; station staff (admin) may too, and run the 驿站
  { name: 'courier', title: '快递投递', icon: '递', color: '#2a82e4', roles: ['courier', 'admin'], ready: true, url: routes.LOCKERS_DEPOSIT },
  { name: 'station', title: '驿站', icon: '驿', color: '#1c6dd0', roles: ['admin'], ready: true, url: routes.LOCKERS_STATION },
  { name: 'fees', title: '缴费', icon: '缴', color: '#fa5151', roles: ['student', 'parent'], ready: true, url: routes.FEES },
  { name: 'finance', title: '财务', icon: '财', color: '#c87d2f', roles: ['finance'], ready: false },
  { name: 'stats', title: '统计', icon: '统', color: '#576b95', roles: ['admin'], ready: false },
  { name: 'notice', title: '后勤通知', icon: '通', color: '#07c160', roles: ['admin'], ready: true, url: routes.NOTICE },
];

// What can be done at a place opened from its QR code (the page adds `?place_id=<id>` to `url`).
const PLACE_ACTIONS = [{ name: 'repair', title: '在这里报修', icon: '修', color: '#ff976a', ready: true, url: routes.REPAIR_REPORT }];

function tilesFor(user) {
  if (!user || !user.bound) return [];
  return TILES.filter(tile => !tile.roles || hasAnyRole(user, tile.roles));
}

function findTile(name, list) {
  return (list || TILES).filter(tile => tile.name === name)[0] || null;
}

module.exports = { TILES, PLACE_ACTIONS, tilesFor, findTile };
