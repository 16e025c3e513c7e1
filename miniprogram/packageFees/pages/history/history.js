// 缴费记录: my payments, newest first, with their refunds.
const paymentsApi = require('../../../api/payments');
const list = require('../../../behaviors/list');
const view = require('../../lib/view');

Component({
  behaviors: [list],

  methods: {
    onLoad() {
      return this.reload();
    },

    fetchPage(page, pageSize) {
      return paymentsApi.mine({ page, page_size: pageSize }, { silent: true });
    },

    listItem(raw) {
      return view.payment(raw);
    },
  },
});
