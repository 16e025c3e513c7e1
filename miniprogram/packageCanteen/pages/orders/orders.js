// 我的订单: my canteen orders, newest first (behaviors/list), each with its status in Chinese; a tap
// opens the order (its pickup code, 取消订单, 去支付).
const canteenApi = require('../../../api/canteen');
const list = require('../../../behaviors/list');
const routes = require('../../../utils/routes');
const view = require('../../lib/view');

Component({
  behaviors: [list],

  methods: {
    onLoad() {
      return this.reload();
    },

    onShow() {
      // back from an order that was paid or cancelled meanwhile
      if (this.shown) return this.reload();
      this.shown = true;
      return undefined;
    },

    fetchPage(page, pageSize) {
      return canteenApi.mine({ page, page_size: pageSize }, { silent: true });
    },

    listItem(raw) {
      return view.order(raw);
    },

    onOpen(e) {
      wx.navigateTo({ url: routes.canteen.order(e.currentTarget.dataset.id) });
    },
  },
});
