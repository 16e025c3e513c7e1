// 维修任务 (workers): 新任务 (assigned to me, or waiting in my group's pool) / 进行中 / 已完成, urgent and
// overdue first. Quick buttons on each row: 接单 / 退回 for new ones, 到场维修 / 暂停 / 继续 / 完工 for
// those in progress. Another worker taking a pool task first answers 409: request() shows the
// envelope's message (报修单已被他人处理…) and the list reloads. 开启新任务提醒 asks WeChat for the
// task subscribe message from the tap itself.
const repairsApi = require('../../../api/repairs');
const routes = require('../../../utils/routes');
const status = require('../../../utils/repair-status');
const list = require('../../../behaviors/list');
const listPage = require('../../lib/list-page');
const dispatch = require('../../lib/dispatch');

const TABS = [
  { key: 'new', label: '新任务' },
  { key: 'active', label: '进行中' },
  { key: 'done', label: '已完成' },
];

const DONE = { accept: '已接单', decline: '已退回', start: '已开始维修', hold: '已暂停', resume: '已继续维修' };

Component({
  behaviors: [list],

  data: { tabs: TABS, tab: 'new' },

  methods: Object.assign({}, listPage.methods, {
    onLoad(query) {
      const tab = query && TABS.some(t => t.key === query.tab) ? query.tab : 'new';
      this.setData({ tab });
      return listPage.methods.onLoad.call(this);
    },

    fetchPage(page, pageSize) {
      return repairsApi.tasks({ tab: this.data.tab, page, page_size: pageSize }, { silent: true });
    },

    onSubscribe: listPage.subscribeTap(status.EVENTS.task, '已开启新任务提醒'),

    onAct(e) {
      const { id, action } = e.currentTarget.dataset;
      if (this.acting) return undefined;
      if (action === 'complete') {
        wx.navigateTo({ url: routes.REPAIR_COMPLETE + '?id=' + id });
        return undefined;
      }
      if (action === 'decline' || action === 'hold') {
        return dispatch
          .ask({ title: action === 'decline' ? '退回任务' : '暂停维修', editable: true, placeholderText: action === 'decline' ? '退回原因' : '暂停原因（如：等配件）' })
          .then(res => {
            if (!res.confirm) return undefined;
            const reason = String(res.content || '').trim();
            if (!reason) {
              wx.showToast({ title: '请填写原因', icon: 'none' });
              return undefined;
            }
            return this.perform(id, action, { reason });
          });
      }
      return this.perform(id, action, {});
    },

    perform(id, action, body) {
      this.acting = true;
      return repairsApi.act(id, action, body).then(
        () => {
          this.acting = false;
          wx.showToast({ title: DONE[action] || '已完成', icon: 'success' });
          return this.reload();
        },
        () => {
          this.acting = false;
          return this.reload();
        }
      );
    },
  }),
});
