// 派单调度 (dispatchers): open repairs, overdue first (the API's order) with an overdue badge; 派单
// to a worker for queued ones, 转派 for assigned or started ones, 调紧急 / 调普通. Filters: all,
// only overdue, only unassigned.
const repairsApi = require('../../../api/repairs');
const subscribe = require('../../../services/subscribe');
const routes = require('../../../utils/routes');
const status = require('../../../utils/repair-status');
const list = require('../../../behaviors/list');
const view = require('../../lib/view');
const dispatch = require('../../lib/dispatch');

const FILTERS = [
  { key: 'all', label: '全部' },
  { key: 'overdue', label: '已超时' },
  { key: 'unassigned', label: '待派单' },
];

Component({
  behaviors: [list],

  data: Object.assign({}, dispatch.data, { filters: FILTERS, filter: 'all' }),

  methods: Object.assign({}, dispatch.methods, {
    onLoad() {
      this.loadedOnce = true;
      return this.reload();
    },

    onShow() {
      return this.loadedOnce && this.data.loaded ? this.reload() : undefined;
    },

    listItem: view.summary,

    fetchPage(page, pageSize) {
      const params = { page, page_size: pageSize };
      if (this.data.filter === 'overdue') params.overdue = true;
      if (this.data.filter === 'unassigned') params.unassigned = true;
      return repairsApi.queue(params, { silent: true });
    },

    onFilter(e) {
      const filter = e.currentTarget.dataset.filter;
      if (filter === this.data.filter) return undefined;
      this.setData({ filter });
      return this.resetList();
    },

    onOpen(e) {
      wx.navigateTo({ url: routes.repairUrl(e.currentTarget.dataset.id) });
    },

    onSubscribe() {
      return subscribe.askFor([status.EVENTS.alert]).then(res => {
        wx.showToast({ title: res.accepted.length ? '已开启超时提醒' : '未开启提醒', icon: 'none' });
      });
    },

    afterDispatch() {
      return this.reload();
    },
  }),
});
