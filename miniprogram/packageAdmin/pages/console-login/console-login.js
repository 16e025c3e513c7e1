// 登录后勤管理后台？ — opened by scanning the web console's sign-in code (from 我的 / 首页 扫一扫, or
// WeChat's scanner with the link in `q`). Scanning tells the browser someone is confirming; 确认登录
// signs that browser in as me, 取消 spends the code. Only admins, dispatchers and finance may: the
// server answers 403 with the reason for everyone else, and an expired or used code says so.
const consoleApi = require('../../../api/console');
const scene = require('../../../utils/scene');
const time = require('../../../utils/time');

function tokenFrom(query) {
  if (query && query.token && scene.CONSOLE_TOKEN_RE.test(query.token)) return query.token;
  const target = scene.parseScene(query);
  return target && target.type === 'console' ? target.code : '';
}

// A short name of the browser for "where is asking".
function browserName(agent) {
  const text = String(agent || '');
  const known = [['Edg/', 'Edge'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Safari/', 'Safari']];
  for (let i = 0; i < known.length; i += 1) if (text.indexOf(known[i][0]) >= 0) return known[i][1] + ' 浏览器';
  return text ? '浏览器' : '未知设备';
}

Component({
  data: {
    state: 'loading', // loading | ask | busy | done | cancelled | error
    where: '',
    expires: '',
    error: '',
  },

  methods: {
    onLoad(query) {
      this.token = tokenFrom(query);
      if (!this.token) {
        this.setData({ state: 'error', error: '无法识别该二维码，请在电脑上刷新后重新扫码' });
        return undefined;
      }
      return consoleApi.scan(this.token, { silent: true }).then(
        res => this.setData({
          state: 'ask',
          where: browserName(res.user_agent) + (res.ip ? ' · ' + res.ip : ''),
          expires: time.formatDateTime(res.expires_at),
        }),
        err => this.setData({ state: 'error', error: err.message })
      );
    },

    onConfirm() {
      if (this.data.state !== 'ask') return undefined;
      this.setData({ state: 'busy' });
      return consoleApi.confirm(this.token, { silent: true }).then(
        () => this.setData({ state: 'done' }),
        err => this.setData({ state: 'error', error: err.message })
      );
    },

    onCancel() {
      if (this.data.state !== 'ask') return undefined;
      this.setData({ state: 'busy' });
      return consoleApi.reject(this.token, { silent: true }).then(
        () => this.setData({ state: 'cancelled' }),
        err => this.setData({ state: 'error', error: err.message })
      );
    },

    onBack() {
      wx.navigateBack({ fail: () => wx.switchTab({ url: '/pages/me/me' }) });
    },
  },
});
