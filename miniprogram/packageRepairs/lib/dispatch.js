// The dispatcher's worker picker (派单 / 转派) and 调整紧急程度, shared by 派单调度 and the detail page:
// mixed into a page's methods. The page defines afterDispatch(repair) (the detail the API answered).
// Page data: picker: {action, repairId, title} | null, workers: [{user_id, name, open_count, groups}]
const repairsApi = require('../../api/repairs');

function ask(options) {
  return new Promise(resolve => {
    wx.showModal(
      Object.assign({}, options, {
        success: res => resolve(res),
        fail: () => resolve({ confirm: false }),
      })
    );
  });
}

const data = { picker: null, workers: [] };

const methods = {
  // data-id, data-action ('assign' | 'transfer')
  onPickWorker(e) {
    const { id, action } = e.currentTarget.dataset;
    this.setData({ picker: { action, repairId: id, title: action === 'transfer' ? '转派给' : '派单给' }, workers: [] });
    return repairsApi.workers().then(
      list => this.setData({ workers: list.map(w => Object.assign({}, w, { groupText: (w.groups || []).map(g => g.name + (g.on_duty ? '' : '（休）')).join('、') })) }),
      () => this.setData({ picker: null })
    );
  },

  noop() {},

  onClosePicker() {
    this.setData({ picker: null });
  },

  onChooseWorker(e) {
    const picker = this.data.picker;
    if (!picker || this.dispatching) return undefined;
    const workerId = e.currentTarget.dataset.id;
    this.dispatching = true;
    return repairsApi.act(picker.repairId, picker.action, { worker_id: workerId }).then(
      repair => {
        this.dispatching = false;
        this.setData({ picker: null });
        wx.showToast({ title: picker.action === 'transfer' ? '已转派' : '已派单', icon: 'success' });
        return this.afterDispatch(repair);
      },
      () => {
        // request() showed the envelope's message (e.g. someone else dispatched it first)
        this.dispatching = false;
        this.setData({ picker: null });
        return this.afterDispatch(null);
      }
    );
  },

  // data-id, data-urgency (the current one): switches normal <-> urgent after a confirmation.
  onReprioritise(e) {
    const { id, urgency } = e.currentTarget.dataset;
    const next = urgency === 'urgent' ? 'normal' : 'urgent';
    return ask({
      title: next === 'urgent' ? '调为紧急' : '调为普通',
      content: '未到期的时限将按新的紧急程度重新计算',
      editable: true,
      placeholderText: '原因（选填）',
    }).then(res => {
      if (!res.confirm) return undefined;
      const body = { urgency: next };
      if (res.content && res.content.trim()) body.reason = res.content.trim();
      return repairsApi.act(id, 'reprioritise', body).then(
        repair => {
          wx.showToast({ title: '已调整', icon: 'success' });
          return this.afterDispatch(repair);
        },
        () => this.afterDispatch(null)
      );
    });
  },
};

module.exports = { data, methods, ask };
