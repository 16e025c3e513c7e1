// 我的报修: my reports (and those mine was linked to), newest first, a page at a time.
const repairsApi = require('../../../api/repairs');
const routes = require('../../../utils/routes');
const list = require('../../../behaviors/list');
const view = require('../../lib/view');

Component({
  behaviors: [list],

  methods: {
    onLoad() {
      this.loadedOnce = true;
      return this.reload();
    },

    // Back from a detail where something changed: show the new status.
    onShow() {
      if (!this.loadedOnce) return undefined;
      return this.data.loaded ? this.reload() : undefined;
    },

    listItem: view.summary,

    fetchPage(page, pageSize) {
      return repairsApi.mine({ page, page_size: pageSize }, { silent: true });
    },

    onOpen(e) {
      wx.navigateTo({ url: routes.repairUrl(e.currentTarget.dataset.id) });
    },

    goReport() {
      wx.navigateTo({ url: routes.REPAIR_REPORT });
    },
  },
});
