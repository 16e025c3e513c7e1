// 派单调度 (dispatchers): open repairs, overdue first (the API's order) with an overdue badge; 派单
// to a worker for queued ones, 转派 for assigned or started ones, 调紧急 / 调普通. Filters: all,
// only overdue, only unassigned.
const repairsApi = require('../../../api/repairs');
const subscribe = require('../../../services/subscribe');
const paging = require('../../../utils/paging');
const routes = require('../../../utils/routes');
const status = require('../../../utils/repair-status');
const list = require('../../lib/list');
const dispatch = require('../../lib/dispatch');

const FILTERS = [
  { key: 'all', label: '全部' },
  { key: 'overdue', label: '已超时' },
  { key: 'unassigned', label: '待派单' },
];

Component({
  data: Object.assign({}, list.data, dispatch.data, { filters: FILTERS, filter: 'all' }),

  methods: Object.assign({}, list.methods, dispatch.methods, {
    onLoad() {
      this.loadedOnce = true;
      return this.reload();
    },

    onShow() {
      return this.loadedOnce && this.data.loaded ? this.reload() : undefined;
    },

    fetch(page) {
      const params = { page, page_size: paging.PAGE_SIZE };
      if (this.data.filter === 'overdue') params.overdue = true;
      if (this.data.filter === 'unassigned') params.unassigned = true;
      return repairsApi.queue(params, { silent: true });
    },

    onFilter(e) {
      const filter = e.currentTarget.dataset.filter;
      if (filter === this.data.filter) return undefined;
      this.setData({ filter, items: [], loaded: false });
      return this.reload();
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
