// 我的: profile when bound, the roster-binding form when not, and logout.
const session = require('../../services/session');
const meApi = require('../../api/me');
const roles = require('../../utils/roles');
const bindForm = require('../../utils/bind-form');
const subscribe = require('../../services/subscribe');

function identityOf(user) {
  const person = user.person;
  if (!person) return '';
  const who = roles.personKindLabel(person.kind) + ' ' + person.name + (person.number ? '（' + person.number + '）' : '');
  const unit = person.department || person.class_name;
  return unit ? who + ' · ' + unit : who;
}

function emptyForm(kind) {
  return { kind: kind || 'staff', number: '', name: '', phoneCode: '' };
}

Component({
  data: {
    user: null,
    roleText: '',
    identity: '',
    loading: false,
    error: '',
    loggedOut: false,
    kinds: bindForm.KINDS,
    kind: bindForm.KINDS[0],
    form: emptyForm(),
    errors: {},
    formError: '',
    submitting: false,
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
      });
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

    // <button open-type="getPhoneNumber">: the one-time code is exchanged by the backend.
    onPhoneNumber(e) {
      const code = e.detail && e.detail.code;
      if (code) this.setData({ 'form.phoneCode': code, 'errors.phone': '' });
    },

    onSubmit() {
      if (this.data.submitting) return undefined;
      const form = this.data.form;
      const errors = bindForm.validate(form);
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return undefined;

      this.setData({ submitting: true });
      return meApi.bind(bindForm.toPayload(form), { silent: true }).then(
        user => {
          session.setUser(user);
          this.setData({ submitting: false, form: emptyForm(form.kind) });
          this.showUser(user);
          wx.showToast({ title: '绑定成功', icon: 'success' });
          // New roles may be carried in the access token: rotate it now rather than at expiry.
          return session.refresh().catch(() => {});
        },
        err => {
          this.setData({
            submitting: false,
            errors: bindForm.fieldErrorsFromServer(err.errors),
            formError: err.message,
          });
          if (err.error_code === 'users.already_bound') return this.refresh();
          return undefined;
        }
      );
    },

    // From the tap itself: WeChat shows the consent dialog only then (services/subscribe.js).
    onSubscribe() {
      return subscribe.askFor(subscribe.ALL).then(res => {
        if (res.accepted.length) wx.showToast({ title: '已开启消息提醒', icon: 'success' });
        else if (res.rejected.length) wx.showToast({ title: '未开启提醒，可在设置中修改', icon: 'none' });
      });
    },

    onLogout() {
      return new Promise(resolve => {
        wx.showModal({
          title: '退出登录',
          content: '退出后需重新登录才能使用后勤服务',
          confirmText: '退出',
          success: res => resolve(res.confirm),
          fail: () => resolve(false),
        });
      }).then(confirmed => {
        if (!confirmed) return undefined;
        return session.logout().then(() => {
          this.setData({ user: null, roleText: '', identity: '', loggedOut: true });
        });
      });
    },

    onRelogin() {
      return this.refresh();
    },
  },
});
