// 派单调度 (dispatchers): open repairs, overdue first, then by the next deadline; filters for overdue
// and unassigned work. A tap opens the repair, where it is assigned, transferred or re-prioritised.
const repairsApi = require('../../../api/repairs');
const subscribe = require('../../../services/subscribe');
const labels = require('../../../utils/repairs');

const PAGE_SIZE = 20;

Component({
  data: {
    items: [],
    page: 0,
    hasMore: true,
    overdueOnly: false,
    unassignedOnly: false,
    loading: false,
    error: '',
  },

  methods: {
    onLoad() {
      subscribe.load();
    },

    onShow() {
      return this.load(1);
    },

    onPullDownRefresh() {
      return this.load(1).then(() => wx.stopPullDownRefresh());
    },

    onReachBottom() {
      return this.data.hasMore && !this.data.loading ? this.load(this.data.page + 1) : undefined;
    },

    toggleOverdue() {
      this.setData({ overdueOnly: !this.data.overdueOnly });
      return this.load(1);
    },

    toggleUnassigned() {
      this.setData({ unassignedOnly: !this.data.unassignedOnly });
      return this.load(1);
    },

    load(page) {
      const query = { page, page_size: PAGE_SIZE };
      if (this.data.overdueOnly) query.overdue = true;
      if (this.data.unassignedOnly) query.unassigned = true;
      this.setData({ loading: true, error: '' });
      return repairsApi.queue(query, { silent: true }).then(
        list => {
          const items = (list || []).map(r => labels.listItem(r));
          this.setData({ loading: false, page, hasMore: items.length === PAGE_SIZE, items: page === 1 ? items : this.data.items.concat(items) });
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    open(e) {
      wx.navigateTo({ url: '/packageRepairs/pages/detail/detail?id=' + e.currentTarget.dataset.id });
    },

    subscribeAlerts() {
      return subscribe.ask(['repairs.alert']).then(accepted =>
        wx.showToast({ title: accepted ? '已开启超时提醒' : '未开启提醒', icon: accepted ? 'success' : 'none' })
      );
    },
  },
});
