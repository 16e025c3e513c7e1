// 首页: greeting, the tiles the user's roles allow, and the landing point of room QR codes.
const session = require('../../services/session');
const placesApi = require('../../api/places');
const tiles = require('../../utils/tiles');
const roles = require('../../utils/roles');
const scene = require('../../utils/scene');
const routes = require('../../utils/routes');

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

function displayName(user) {
  return (user.person && user.person.name) || user.nickname || '';
}

Component({
  data: {
    user: null,
    greeting: '你好',
    roleText: '',
    tiles: [],
    loading: false,
    error: '',
  },

  methods: {
    onLoad(query) {
      // A room QR code opens this page with `scene`; it is handled once the user is known.
      this.pendingTarget = scene.parseScene(query);
    },

    onShow() {
      return this.refresh();
    },

    onPullDownRefresh() {
      return this.refresh().then(() => wx.stopPullDownRefresh());
    },

    refresh() {
      this.showUser(session.getUser());
      this.setData({ loading: true, error: '' });
      return session.fetchUser().then(
        user => {
          this.setData({ loading: false });
          this.showUser(user);
          return this.openPendingTarget(user);
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    showUser(user) {
      if (!user) return;
      const name = displayName(user);
      this.setData({
        user,
        greeting: name ? '你好，' + name : '你好',
        roleText: roles.roleLabels(user.roles).join(' · '),
        tiles: tiles.tilesFor(user),
      });
    },

    openPendingTarget(user) {
      const target = this.pendingTarget;
      this.pendingTarget = null;
      if (!target) return undefined;
      if (!user.bound) {
        toast('请先绑定身份');
        return undefined;
      }
      return this.openTarget(target);
    },

    openTarget(target) {
      if (target.type === 'console') {
        wx.navigateTo({ url: routes.consoleLoginUrl(target.code) });
        return undefined;
      }
      if (target.type === 'meeting' || target.type === 'checkin') {
        // The check-in page scans in: a door code (meeting code) or a rotating code (token).
        wx.navigateTo({ url: routes.meetings.checkin(target) });
        return undefined;
      }
      // Resolve first so a stale or foreign code gets a toast here instead of a broken page.
      return placesApi.getByCode(target.code).then(
        place => wx.navigateTo({ url: routes.placeUrl(place.code) }),
        () => {}
      );
    },

    onTile(e) {
      const tile = tiles.findTile(e.detail.name);
      if (!tile || !tile.ready) {
        toast('即将上线');
        return;
      }
      if (tile.action === 'scan') this.scan();
      else if (tile.url) wx.navigateTo({ url: tile.url });
    },

    scan() {
      wx.scanCode({
        scanType: ['wxCode', 'qrCode'],
        success: res => {
          const target = scene.parseScanResult(res);
          if (target) this.openTarget(target);
          else toast('无法识别该二维码');
        },
      });
    },

    goBind() {
      wx.switchTab({ url: routes.ME });
    },
  },
});
