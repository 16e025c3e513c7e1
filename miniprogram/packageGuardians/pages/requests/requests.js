// 家长绑定申请 (students and class teachers; admins too): parents asking to act for a student, 待确认
// first; 通过 / 拒绝 after a confirm dialog. A page at a time (behaviors/list). A student also sees
// the parents bound to them (我的家长) and may unbind one — a stranger who got in, a parent replaced.
const guardiansApi = require('../../../api/guardians');
const list = require('../../../behaviors/list');
const session = require('../../../services/session');
const time = require('../../../utils/time');

function item(r) {
  return {
    id: r.id,
    requester: r.requester_name + (r.relation ? '（' + r.relation + '）' : ''),
    phone: r.requester_phone_masked || '',
    studentName: r.student_name,
    child: r.student_name + ' · ' + r.class_name + ' · ' + r.student_number,
    when: time.formatRelative(r.created_at),
    expires: time.formatDateTime(r.expires_at),
    status: r.status,
    statusLabel: r.status_label,
    decidedBy: r.decided_by || '',
    canApprove: (r.actions || []).indexOf('approve') >= 0,
    canReject: (r.actions || []).indexOf('reject') >= 0,
  };
}

function guardian(g) {
  return {
    userId: g.user_id,
    name: g.name + (g.relation ? '（' + g.relation + '）' : ''),
    phone: g.phone_masked || '',
    since: time.formatDateTime(g.since),
  };
}

function confirm(title, content, confirmText) {
  return new Promise(resolve => {
    wx.showModal({ title, content, confirmText, success: res => resolve(res.confirm), fail: () => resolve(false) });
  });
}

const DECISIONS = {
  approve: {
    title: '通过绑定申请',
    content: r => '确认' + r.requester + '是' + r.studentName + '的家长？通过后对方可以代孩子办理后勤事务。',
    confirmText: '通过',
    done: '已通过',
  },
  reject: {
    title: '拒绝绑定申请',
    content: r => '拒绝' + r.requester + '的申请？对方不会绑定为家长。',
    confirmText: '拒绝',
    done: '已拒绝',
  },
};

Component({
  behaviors: [list],

  data: {
    tab: 'pending',
    guardians: null, // a student's own parents: {items, count, max}
  },

  methods: {
    onLoad() {
      const user = session.getUser();
      this.studentId = user && user.student_id ? user.student_id : null;
      return Promise.all([this.reload(), this.loadGuardians()]);
    },

    // tab: 'pending' (待确认) or 'done' (已处理: decided, withdrawn, expired), filtered by the server.
    fetchPage(page, pageSize) {
      const params = { page_size: pageSize, status: this.data.tab };
      if (page > 1) params.page = page;
      return guardiansApi.requests(params, { silent: true });
    },

    listItem: item,

    decide(e) {
      const id = e.currentTarget.dataset.id;
      const action = e.currentTarget.dataset.action;
      const how = DECISIONS[action];
      const row = this.data.items.filter(r => r.id === id)[0];
      if (!how || !row) return undefined;
      return confirm(how.title, how.content(row), how.confirmText).then(ok => {
        if (!ok) return undefined;
        return guardiansApi[action](id).then(
          () => {
            wx.showToast({ title: how.done, icon: 'success' });
            return Promise.all([this.removeItem(id), action === 'approve' ? this.loadGuardians() : null]);
          },
          () => this.reload() // decided by someone else meanwhile, or expired: the toast said why
        );
      });
    },

    loadGuardians() {
      if (!this.studentId) return Promise.resolve();
      return guardiansApi.studentGuardians(this.studentId, { silent: true }).then(
        res =>
          this.setData({
            guardians: { items: res.guardians.map(guardian), count: res.guardians.length, max: res.max_guardians },
          }),
        () => undefined
      );
    },

    onRemoveGuardian(e) {
      const userId = e.currentTarget.dataset.user;
      const who = this.data.guardians.items.filter(g => g.userId === userId)[0];
      if (!who) return undefined;
      const content = '解除后' + who.name + '不能再代你办理后勤事务，需重新申请绑定。';
      return confirm('解除家长绑定', content, '解除').then(ok => {
        if (!ok) return undefined;
        return guardiansApi.removeGuardian(this.studentId, userId).then(
          () => {
            wx.showToast({ title: '已解除', icon: 'success' });
            return this.loadGuardians();
          },
          () => this.loadGuardians()
        );
      });
    },
  },
});
