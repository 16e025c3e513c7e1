// 派单调度 (dispatchers): open repairs, overdue first (the API's order) with an overdue badge; 派单
// to a worker for queued ones, 转派 for assigned or started ones, 调紧急 / 调普通. Filters: all,
// only overdue, only unassigned.
const repairsApi = require('../../../api/repairs');
const status = require('../../../utils/repair-status');
const list = require('../../../behaviors/list');
const listPage = require('../../lib/list-page');
const dispatch = require('../../lib/dispatch');

const FILTERS = [
  { key: 'all', label: '全部' },
  { key: 'overdue', label: '已超时' },
  { key: 'unassigned', label: '待派单' },
];

Component({
  behaviors: [list],

  data: Object.assign({}, dispatch.data, { filters: FILTERS, filter: 'all' }),

  methods: Object.assign({}, listPage.methods, dispatch.methods, {
    fetchPage(page, pageSize) {
      const params = { page, page_size: pageSize };
      if (this.data.filter === 'overdue') params.overdue = true;
      if (this.data.filter === 'unassigned') params.unassigned = true;
      return repairsApi.queue(params, { silent: true });
    },

    onFilter(e) {
      return this.switchList('filter', e.currentTarget.dataset.filter);
    },

    onSubscribe: listPage.subscribeTap(status.EVENTS.alert, '已开启超时提醒'),

    afterDispatch() {
      return this.reload();
    },
  }),
});
