// 我的报修: my reports (and those mine was linked to), newest first, with their status.
const repairsApi = require('../../../api/repairs');
const labels = require('../../../utils/repairs');

const PAGE_SIZE = 20;

Component({
  data: {
    items: [],
    page: 0,
    hasMore: true,
    loading: false,
    error: '',
  },

  methods: {
    onShow() {
      return this.reload();
    },

    onPullDownRefresh() {
      return this.reload().then(() => wx.stopPullDownRefresh());
    },

    onReachBottom() {
      return this.data.hasMore && !this.data.loading ? this.load(this.data.page + 1) : undefined;
    },

    reload() {
      return this.load(1);
    },

    load(page) {
      this.setData({ loading: true, error: '' });
      return repairsApi.mine({ page, page_size: PAGE_SIZE }, { silent: true }).then(
        list => {
          const items = (list || []).map(r => labels.listItem(r));
          this.setData({
            loading: false,
            page,
            items: page === 1 ? items : this.data.items.concat(items),
            hasMore: items.length === PAGE_SIZE,
          });
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    open(e) {
      wx.navigateTo({ url: '/packageRepairs/pages/detail/detail?id=' + e.currentTarget.dataset.id });
    },

    report() {
      wx.navigateTo({ url: '/packageRepairs/pages/report/report' });
    },
  },
});
