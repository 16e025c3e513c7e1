// The one list behaviour of every paginated page (消息, 会议, 请假审批, 我的报修, 维修任务, 派单调度,
// 投递失败的消息 …): the first page, pull-down refresh, the next page on reaching the bottom, a stop
// at the last page, an empty state, an error state with 重试, and rows taken out in between.
//
//   const list = require('../../behaviors/list');
//   Component({
//     behaviors: [list],
//     data: { pageSize: 50 },                              // optional, default utils/paging.PAGE_SIZE
//     methods: {
//       onLoad() { return this.reload(); },
//       fetchPage(page, pageSize) {                        // required: -> Promise<{items, pagination}>
//         return api.things({ page, page_size: pageSize }, { silent: true });   // api/request.list
//       },
//       listItem(raw) { return {...} },                    // optional: the row shown for an item
//       listItems(rows) { return rows.filter(...) },       // optional: which rows of a page to show
//     },
//   });
//
// Page data and what the template shows (see pages/messages/messages.wxml):
//   loading && !items.length             加载中…
//   error && !items.length               加载失败 + 重试 (bindtap="reload"); errorCode says why
//   loaded && !items.length              the page's own empty state
//   loadingMore / loaded && !hasMore     加载中… / 没有更多了
//   total                                from the X-Pagination header (else the rows shown)
// A reload that fails while rows are shown keeps them and toasts why; so does a failed next page.
// Rows need an `id` (a row that moved to the next page between two loads is shown once).
//
// Methods: reload() (first page again: after a change, on coming back), resetList() (empty the list
// and reload), switchList(name, value) (a tab or filter switch: sets data[name], then resetList() unless
// it was already that), loadMore(), removeItem(id) (a row that left the list: retried,
// handled — the next page is then computed from what is left), and the page handlers
// onPullDownRefresh / onReachBottom, which a page may override (calling reload / loadMore itself).
// Tabs over a list: `data: {tab: '<first>'}`, each tab `data-tab="…" bindtap="onListTab"`; a tap on
// another tab sets `tab` and resets the list (fetchPage reads this.data.tab).
const paging = require('../utils/paging');

module.exports = Behavior({
  data: {
    items: [],
    total: 0,
    loaded: false,
    loading: false,
    loadingMore: false,
    hasMore: false,
    error: '',
    errorCode: '',
    pageSize: paging.PAGE_SIZE,
  },

  methods: {
    onPullDownRefresh() {
      return this.reload().then(() => wx.stopPullDownRefresh());
    },

    onReachBottom() {
      return this.loadMore();
    },

    // raw items of one page -> the rows shown
    listRows(raw) {
      const rows = typeof this.listItem === 'function' ? raw.map(item => this.listItem(item)) : raw.slice();
      return typeof this.listItems === 'function' ? this.listItems(rows) : rows;
    },

    // What a loaded page says about the list: where paging stands, the total, whether more follow.
    listLoaded(page, res, rows) {
      this.listPage = page;
      this.listRemoved = 0;
      return {
        items: rows,
        total: res.pagination && typeof res.pagination.total === 'number' ? res.pagination.total : rows.length,
        hasMore: paging.hasMore(res.pagination, res.items.length, this.data.pageSize),
      };
    },

    // Nothing to show yet, but the server has more (a page the page filtered out, every row removed).
    listContinue() {
      return !this.data.items.length && this.data.hasMore ? this.loadMore() : undefined;
    },

    reload() {
      const seq = (this.listSeq = (this.listSeq || 0) + 1);
      this.setData({ loading: true, error: '', errorCode: '' });
      return this.fetchPage(1, this.data.pageSize).then(
        res => {
          if (seq !== this.listSeq) return undefined;
          const state = this.listLoaded(1, res, this.listRows(res.items || []));
          this.setData(Object.assign({ loading: false, loaded: true, loadingMore: false }, state));
          return this.listContinue();
        },
        err => {
          if (seq !== this.listSeq) return;
          this.setData({ loading: false, loadingMore: false, error: err.message || '加载失败', errorCode: err.error_code || '' });
          if (this.data.items.length) wx.showToast({ title: err.message, icon: 'none' });
        }
      );
    },

    onListTab(e) {
      return this.switchList('tab', e.currentTarget.dataset.tab) || Promise.resolve();
    },

    // A tab or filter switch: data[name] = value and the list again from the first page; undefined
    // when that value is already shown.
    switchList(name, value) {
      if (value === this.data[name]) return undefined;
      this.setData({ [name]: value });
      return this.resetList();
    },

    resetList() {
      this.listSeq = (this.listSeq || 0) + 1;
      this.setData({ items: [], total: 0, loaded: false, hasMore: false, loadingMore: false, error: '', errorCode: '' });
      return this.reload();
    },

    loadMore() {
      if (!this.data.hasMore || this.data.loading || this.data.loadingMore) return Promise.resolve();
      const seq = this.listSeq;
      const page = paging.nextPage(this.listPage || 1, this.listRemoved, this.data.pageSize);
      this.setData({ loadingMore: true });
      return this.fetchPage(page, this.data.pageSize).then(
        res => {
          if (seq !== this.listSeq) return undefined;
          const rows = paging.merge(this.data.items, this.listRows(res.items || []));
          const state = this.listLoaded(page, res, rows);
          this.setData(Object.assign({ loadingMore: false }, state));
          return this.listContinue();
        },
        err => {
          if (seq !== this.listSeq) return;
          this.setData({ loadingMore: false });
          wx.showToast({ title: err.message, icon: 'none' });
        }
      );
    },

    // A row that left the list on the server (retried, handled): gone from the screen and counted,
    // so the next page starts at the first row not shown yet.
    removeItem(id) {
      const items = this.data.items.filter(item => item.id !== id);
      if (items.length === this.data.items.length) return Promise.resolve();
      this.listRemoved = (this.listRemoved || 0) + 1;
      this.setData({ items, total: Math.max(0, this.data.total - 1) });
      return Promise.resolve(this.listContinue());
    },
  },
});
