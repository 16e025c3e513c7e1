// 我的: profile when bound, the roster-binding form when not, and logout.
// Parents: 手机号验证 (getPhoneNumber) binds at once when the school registered that number for the
// child; otherwise the bind is a request shown here as 等待确认 (with 撤回) until the child or the
// class teacher confirms it. A bound parent adds another child through the same form (绑定其他孩子).
// Students and class teachers get 家长绑定申请 (with the number waiting) opening the approval list.
// Admins, dispatchers and finance get 登录管理后台: scan the web console's sign-in code.
const session = require('../../services/session');
const meApi = require('../../api/me');
const roles = require('../../utils/roles');
const routes = require('../../utils/routes');
const time = require('../../utils/time');
const bindForm = require('../../utils/bind-form');
const subscribe = require('../../services/subscribe');
const scene = require('../../utils/scene');

// Who may sign in to the managers' web console (app/console on the server says the same).
const CONSOLE_ROLES = ['admin', 'dispatcher', 'finance', 'canteen'];

function identityOf(user) {
  const person = user.person;
  if (!person) return '';
  const who = roles.personKindLabel(person.kind) + ' ' + person.name + (person.number ? '（' + person.number + '）' : '');
  const unit = person.department || person.class_name;
  return unit ? who + ' · ' + unit : who;
}

function emptyForm(kind) {
  return { kind: kind || 'staff', number: '', name: '', phoneCode: '', relation: '' };
}

// A request of mine as the 等待确认 card shows it.
function pendingItem(r) {
  return {
    id: r.id,
    child: r.student_name + '（' + r.student_number + '）',
    relation: r.relation || '',
    statusLabel: r.status_label,
    expires: time.formatDateTime(r.expires_at),
  };
}

function confirm(title, content, confirmText) {
  return new Promise(resolve => {
    wx.showModal({ title, content, confirmText, success: res => resolve(res.confirm), fail: () => resolve(false) });
  });
}

Component({
  data: {
    user: null,
    roleText: '',
    identity: '',
    consoleUser: false,
    loading: false,
    error: '',
    loggedOut: false,
    kinds: bindForm.KINDS,
    relations: bindForm.RELATIONS,
    kind: bindForm.KINDS[0],
    form: emptyForm(),
    errors: {},
    formError: '',
    submitting: false,
    adding: false, // a bound parent binding another child
    pending: [],
  },

  methods: {
    onShow() {
      // After logout stay on the signed-out state, unless another tab has logged in again.
      if (this.data.loggedOut && !session.isLoggedIn()) return undefined;
      return this.refresh();
    },

    refresh() {
      this.showUser(session.getUser());
      this.setData({ loading: true, error: '', loggedOut: false });
      return session.fetchUser().then(
        user => {
          this.setData({ loading: false });
          this.showUser(user);
          return this.loadPending();
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    showUser(user) {
      if (!user) return;
      // Ready for a tap on 订阅消息提醒, which must reach WeChat without waiting on the network.
      if (user.bound) subscribe.preload().catch(() => {});
      this.setData({
        user,
        roleText: roles.roleLabels(user.roles).join('、'),
        identity: identityOf(user),
        consoleUser: !!user.bound && roles.hasAnyRole(user, CONSOLE_ROLES),
      });
    },

    // My guardian requests still waiting (a missing list only hides the card).
    loadPending() {
      return meApi.guardianRequests({ status: 'pending' }, { silent: true }).then(
        res => this.setData({ pending: res.items.map(pendingItem) }),
        () => undefined
      );
    },

    onKindChange(e) {
      const kind = bindForm.kindOf(e.detail.value);
      this.setData({ kind, form: emptyForm(kind.value), errors: {}, formError: '' });
    },

    onNumberInput(e) {
      this.setData({ 'form.number': e.detail.value, 'errors.number': '' });
    },

    onNameInput(e) {
      this.setData({ 'form.name': e.detail.value, 'errors.name': '' });
    },

    onRelationChange(e) {
      this.setData({ 'form.relation': e.detail.value });
    },

    // <button open-type="getPhoneNumber">: the one-time code is exchanged by the backend.
    onPhoneNumber(e) {
      const code = e.detail && e.detail.code;
      if (code) this.setData({ 'form.phoneCode': code, 'errors.phone': '' });
    },

    // 绑定其他孩子 (a bound parent): the parent form, without the other kinds.
    onAddChild() {
      const kind = bindForm.kindOf('parent');
      this.setData({ adding: true, kind, form: emptyForm('parent'), errors: {}, formError: '' });
    },

    onCancelAdd() {
      this.setData({ adding: false, errors: {}, formError: '' });
    },

    onSubmit() {
      if (this.data.submitting) return undefined;
      const form = this.data.form;
      const errors = bindForm.validate(form);
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return undefined;

      this.setData({ submitting: true });
      // A phone code is spent by this one request, whatever it answers.
      return meApi.bind(bindForm.toPayload(form), { silent: true }).then(
        body => {
          this.setData({ submitting: false, form: emptyForm(form.kind) });
          if (bindForm.isPending(body)) return this.showRequested(body);
          session.setUser(body);
          this.setData({ adding: false });
          this.showUser(body);
          wx.showToast({ title: '绑定成功', icon: 'success' });
          // New roles may be carried in the access token: rotate it now rather than at expiry.
          return session.refresh().catch(() => {});
        },
        err => {
          this.setData({
            submitting: false,
            'form.phoneCode': '',
            errors: bindForm.fieldErrorsFromServer(err.errors),
            formError: err.message,
          });
          if (err.error_code === 'users.already_bound') return this.refresh();
          return undefined;
        }
      );
    },

    // 202: the request waits for the child or the class teacher; it is listed as 等待确认.
    showRequested(body) {
      const item = pendingItem(body.request);
      const others = this.data.pending.filter(p => p.id !== item.id);
      this.setData({ pending: [item].concat(others), adding: false });
      wx.showToast({ title: body.message || '申请已提交', icon: 'none', duration: 3000 });
      return undefined;
    },

    onWithdraw(e) {
      const id = e.currentTarget.dataset.id;
      return confirm('撤回申请', '撤回后孩子和班主任将看不到这条申请', '撤回').then(ok => {
        if (!ok) return undefined;
        return meApi.withdrawGuardianRequest(id).then(
          () => {
            this.setData({ pending: this.data.pending.filter(p => p.id !== id) });
            wx.showToast({ title: '已撤回', icon: 'success' });
          },
          () => this.loadPending()
        );
      });
    },

    onGuardianRequests() {
      wx.navigateTo({ url: routes.GUARDIAN_REQUESTS });
    },

    // From the tap itself: WeChat shows the consent dialog only then (services/subscribe.js).
    onSubscribe() {
      return subscribe.askFor(subscribe.ALL).then(res => {
        if (res.accepted.length) wx.showToast({ title: '已开启消息提醒', icon: 'success' });
        else if (res.rejected.length) wx.showToast({ title: '未开启提醒，可在设置中修改', icon: 'none' });
      });
    },

    // 登录管理后台: scan the code the console's sign-in page shows, then confirm on the next page.
    onConsoleScan() {
      wx.scanCode({
        onlyFromCamera: true,
        scanType: ['qrCode'],
        success: res => {
          const target = scene.parseScanResult(res);
          if (target && target.type === 'console') wx.navigateTo({ url: routes.consoleLoginUrl(target.code) });
          else wx.showToast({ title: '不是管理后台的登录二维码', icon: 'none' });
        },
      });
    },

    onLogout() {
      return confirm('退出登录', '退出后需重新登录才能使用后勤服务', '退出').then(confirmed => {
        if (!confirmed) return undefined;
        return session.logout().then(() => {
          this.setData({ user: null, roleText: '', identity: '', loggedOut: true, pending: [], adding: false });
        });
      });
    },

    onRelogin() {
      return this.refresh();
    },
  },
});
