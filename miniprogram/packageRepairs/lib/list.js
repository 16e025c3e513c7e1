// Paginated list methods shared by 我的报修, 维修任务 and 派单调度 (like packageAdmin's deliveries):
// the page defines fetch(page) -> Promise<{items, pagination}>.
// Page data: items, total, loaded, loading, loadingMore, hasMore, error.
const paging = require('../../utils/paging');
const view = require('./view');

const data = { items: [], total: 0, loaded: false, loading: false, loadingMore: false, hasMore: false, error: '' };

const methods = {
  onPullDownRefresh() {
    return this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    return this.loadMore();
  },

  loadedPage(page, res) {
    this.page = page;
    return {
      total: res.pagination ? res.pagination.total : res.items.length,
      hasMore: paging.hasMore(res.pagination, res.items.length, paging.PAGE_SIZE),
    };
  },

  reload() {
    const seq = (this.seq = (this.seq || 0) + 1);
    this.setData({ loading: true, error: '' });
    return this.fetch(1).then(
      res => {
        if (seq !== this.seq) return;
        this.setData(Object.assign({ loading: false, loaded: true, items: res.items.map(view.summary) }, this.loadedPage(1, res)));
      },
      err => {
        if (seq !== this.seq) return;
        this.setData({ loading: false, error: err.message });
      }
    );
  },

  loadMore() {
    if (!this.data.hasMore || this.data.loading || this.data.loadingMore) return Promise.resolve();
    const seq = this.seq;
    const page = this.page + 1;
    this.setData({ loadingMore: true });
    return this.fetch(page).then(
      res => {
        if (seq !== this.seq) return;
        const items = paging.merge(this.data.items, res.items.map(view.summary));
        this.setData(Object.assign({ loadingMore: false, items }, this.loadedPage(page, res)));
      },
      err => {
        this.setData({ loadingMore: false });
        wx.showToast({ title: err.message, icon: 'none' });
      }
    );
  },
};

module.exports = { data, methods };
