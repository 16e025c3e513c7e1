// 发布通知 (admins): a notice (停水、停电、放假安排 …) to everyone holding any of the chosen roles.
// Checked here, confirmed with the number of role groups, then sent; the reply says how many
// people it reached.
const notificationsApi = require('../../../api/notifications');
const roles = require('../../../utils/roles');
const routes = require('../../../utils/routes');

const TITLE_MAX = 40;
const BODY_MAX = 500;

function emptyForm() {
  return { title: '', body: '', roles: [], urgent: false };
}

function roleOptions(checked) {
  return Object.keys(roles.ROLE_LABELS).map(value => ({
    value,
    label: roles.ROLE_LABELS[value],
    checked: checked.indexOf(value) >= 0,
  }));
}

// form -> {title?, body?, roles?} (empty when valid)
function validate(form) {
  const errors = {};
  const title = form.title.trim();
  const body = form.body.trim();
  if (!title) errors.title = '请输入通知标题';
  else if (title.length > TITLE_MAX) errors.title = '标题不能超过' + TITLE_MAX + '个字';
  if (!body) errors.body = '请输入通知内容';
  else if (body.length > BODY_MAX) errors.body = '内容不能超过' + BODY_MAX + '个字';
  if (!form.roles.length) errors.roles = '请选择通知对象';
  return errors;
}

// The first message of a field in a 422 envelope ({json: {field: [msg]}} or {field: [msg]}),
// however deep (a list field reports per item: {roles: {0: [msg]}}).
function firstMessage(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return firstMessage(value[0]);
  if (value && typeof value === 'object') return firstMessage(value[Object.keys(value)[0]]);
  return '';
}

function fieldErrorsFromServer(errors) {
  const source = errors && typeof errors.json === 'object' ? errors.json : errors || {};
  const out = {};
  ['title', 'body', 'roles'].forEach(field => {
    const message = firstMessage(source[field]);
    if (message) out[field] = message;
  });
  return out;
}

function confirm(content) {
  return new Promise(resolve => {
    wx.showModal({
      title: '发送通知',
      content,
      confirmText: '发送',
      success: res => resolve(res.confirm),
      fail: () => resolve(false),
    });
  });
}

Component({
  data: {
    form: emptyForm(),
    roleOptions: roleOptions([]),
    titleMax: TITLE_MAX,
    bodyMax: BODY_MAX,
    errors: {},
    formError: '',
    result: '',
    submitting: false,
  },

  methods: {
    onTitleInput(e) {
      this.setData({ 'form.title': e.detail.value, 'errors.title': '' });
    },

    onBodyInput(e) {
      this.setData({ 'form.body': e.detail.value, 'errors.body': '' });
    },

    onRolesChange(e) {
      const checked = e.detail.value || [];
      this.setData({ 'form.roles': checked, roleOptions: roleOptions(checked), 'errors.roles': '' });
    },

    onUrgentChange(e) {
      this.setData({ 'form.urgent': Boolean(e.detail.value) });
    },

    onSubmit() {
      if (this.data.submitting) return undefined;
      const form = this.data.form;
      const errors = validate(form);
      this.setData({ errors, formError: '', result: '' });
      if (Object.keys(errors).length) return undefined;

      return confirm('将通知 ' + form.roles.length + ' 类人员，确定发送？').then(confirmed => {
        if (!confirmed) return undefined;
        this.setData({ submitting: true });
        const notice = { title: form.title.trim(), body: form.body.trim(), roles: form.roles, urgency: form.urgent ? 'urgent' : 'normal' };
        return notificationsApi.sendNotice(notice, { silent: true }).then(
          res => {
            this.setData({ submitting: false, result: '已发送给 ' + res.recipients + ' 人', form: emptyForm(), roleOptions: roleOptions([]) });
            wx.showToast({ title: '已发送', icon: 'success' });
          },
          err => this.setData({ submitting: false, errors: fieldErrorsFromServer(err.errors), formError: err.message })
        );
      });
    },

    goDeliveries() {
      wx.navigateTo({ url: routes.DELIVERIES });
    },
  },
});
