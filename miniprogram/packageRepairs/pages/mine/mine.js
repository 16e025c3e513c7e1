// 我的报修: my reports (and those mine was linked to), newest first, a page at a time.
const repairsApi = require('../../../api/repairs');
const routes = require('../../../utils/routes');
const list = require('../../../behaviors/list');
const listPage = require('../../lib/list-page');

Component({
  behaviors: [list],

  methods: Object.assign({}, listPage.methods, {
    fetchPage(page, pageSize) {
      return repairsApi.mine({ page, page_size: pageSize }, { silent: true });
    },

    goReport() {
      wx.navigateTo({ url: routes.REPAIR_REPORT });
    },
  }),
});
