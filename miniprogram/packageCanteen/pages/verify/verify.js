// 食堂核销 (canteen staff): scan the order's QR (wx.scanCode) or type its 6-digit pickup code →
// POST /canteen/pickups → the order's dishes and 核销成功, or the server's message shown large
// (已于 11:42 取餐, 取餐码不存在 …); someone not on the canteen staff gets the server's 403 message.
// 备餐单 opens the production sheet and the pickup progress; 菜品与菜单管理 the manage page.
const canteenApi = require('../../../api/canteen');
const scan = require('../../../services/scan');
const routes = require('../../../utils/routes');
const view = require('../../lib/view');

Component({
  data: {
    code: '',
    busy: false,
    result: null, // {ok: true, order} | {ok: false, message}
  },

  methods: {
    // Opened by WeChat's own scanner from the order's QR (a plain link "<WECHAT_QR_LINK_BASE>canteen-pickup?
    // token=…" registered under 扫普通链接二维码打开小程序 to this page): `q` is the link, verify it at once.
    onLoad(query) {
      const link = query && query.q ? decodeURIComponent(query.q) : '';
      const target = view.pickupTarget(link) || (query && query.token ? { token: query.token } : null);
      return target ? this.verify(target) : undefined;
    },

    onInput(e) {
      this.setData({ code: String(e.detail.value || '').replace(/\D/g, '').slice(0, 6) });
    },

    onScan() {
      if (this.data.busy) return undefined;
      return scan.text().then(scanned => {
        if (scanned === null) return undefined; // closed the camera
        const target = view.pickupTarget(scanned);
        if (!target) {
          this.setData({ result: { ok: false, message: '不是订餐取餐码' } });
          return undefined;
        }
        return this.verify(target);
      });
    },

    onSubmit() {
      if (this.data.busy) return undefined;
      const target = view.pickupTarget(this.data.code);
      if (!target) {
        this.setData({ result: { ok: false, message: '请输入 6 位取餐码' } });
        return undefined;
      }
      return this.verify(target);
    },

    verify(target) {
      this.setData({ busy: true, result: null });
      return canteenApi.pickup(target, { silent: true }).then(
        raw => {
          this.setData({ busy: false, code: '', result: { ok: true, order: view.order(raw) } });
          if (wx.vibrateShort) wx.vibrateShort({ type: 'medium' });
        },
        err => this.setData({ busy: false, result: { ok: false, message: err.message } })
      );
    },

    onProduction() {
      wx.navigateTo({ url: routes.canteen.production() });
    },

    onManage() {
      wx.navigateTo({ url: routes.canteen.manage() });
    },
  },
});
