// 维修任务 (workers): 新任务 (assigned to me, or waiting in my group's pool: the first to accept takes
// it), 进行中, 已完成. Urgent and overdue work comes first. New tasks are accepted or declined right
// here; 开启新任务提醒 asks WeChat for subscribe-message consent so the next task reaches the phone.
const repairsApi = require('../../../api/repairs');
const subscribe = require('../../../services/subscribe');
const labels = require('../../../utils/repairs');

const PAGE_SIZE = 20;

function ask(title, placeholder) {
  return new Promise(resolve => {
    wx.showModal({
      title,
      editable: true,
      placeholderText: placeholder,
      success: res => resolve(res.confirm ? String(res.content || '').trim() : null),
      fail: () => resolve(null),
    });
  });
}

Component({
  data: {
    tabs: labels.TASK_TABS,
    tab: 'new',
    items: [],
    page: 0,
    hasMore: true,
    loading: false,
    error: '',
    busyId: null,
  },

  methods: {
    onLoad(query) {
      subscribe.load();
      if (query && query.tab) this.setData({ tab: query.tab });
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

    onTab(e) {
      this.setData({ tab: e.currentTarget.dataset.tab, items: [] });
      return this.load(1);
    },

    load(page) {
      const tab = this.data.tab;
      this.setData({ loading: true, error: '' });
      return repairsApi.tasks({ tab, page, page_size: PAGE_SIZE }, { silent: true }).then(
        list => {
          if (tab !== this.data.tab) return; // the user switched tabs meanwhile
          const items = (list || []).map(r => labels.listItem(r));
          this.setData({ loading: false, page, hasMore: items.length === PAGE_SIZE, items: page === 1 ? items : this.data.items.concat(items) });
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    open(e) {
      wx.navigateTo({ url: '/packageRepairs/pages/detail/detail?id=' + e.currentTarget.dataset.id });
    },

    accept(e) {
      const id = Number(e.currentTarget.dataset.id);
      this.setData({ busyId: id });
      return repairsApi.act(id, 'accept').then(
        () => {
          this.setData({ busyId: null });
          wx.showToast({ title: '已接单', icon: 'success' });
          return this.load(1);
        },
        () => {
          this.setData({ busyId: null });
          return this.load(1); // taken by someone else (409): the list says what is left
        }
      );
    },

    decline(e) {
      const id = Number(e.currentTarget.dataset.id);
      return ask('退回任务', '请填写退回原因').then(reason => {
        if (reason === null) return undefined;
        if (!reason) {
          wx.showToast({ title: '请填写原因', icon: 'none' });
          return undefined;
        }
        return repairsApi.act(id, 'decline', { reason: reason.slice(0, 200) }).then(() => this.load(1), () => this.load(1));
      });
    },

    subscribeTasks() {
      return subscribe.ask(['repairs.task']).then(accepted =>
        wx.showToast({ title: accepted ? '已开启新任务提醒' : '未开启提醒', icon: accepted ? 'success' : 'none' })
      );
    },
  },
});
