// ApiError and the Chinese texts shown when the server's envelope carries no usable message.

const MESSAGES_BY_CODE = {
  network_error: '网络不给力，请检查网络后重试',
  network_timeout: '请求超时，请稍后重试',
  'wechat.login_failed': '微信登录失败，请稍后重试',
  'wechat.unavailable': '微信服务暂时不可用，请稍后重试',
  'auth.invalid_code': '登录失败，请重新打开小程序',
  'auth.invalid_refresh_token': '登录已过期，请重新登录',
  'auth.login_required': '请先登录',
  'auth.not_bound': '请先在“我的”页面绑定身份',
  'users.roster_not_found': '未在花名册中找到此人，请核对工号/学号和姓名',
  'users.already_bound': '您已绑定身份，无需重复绑定',
  validation_error: '提交的信息有误，请检查后重试',
  rate_limited: '操作太频繁，请稍后再试',
  not_found: '没有找到相关内容',
  'meetings.static_code_disabled': '本会议未开启固定签到码（需要先设置签到范围）',
};

const MESSAGES_BY_STATUS = {
  400: '请求有误，请检查后重试',
  401: '登录已过期，请重新登录',
  403: '没有权限进行此操作',
  404: '没有找到相关内容',
  409: '当前状态不允许此操作',
  413: '提交的内容太大',
  422: '提交的信息有误，请检查后重试',
  429: '操作太频繁，请稍后再试',
};

const SERVER_ERROR_MESSAGE = '服务器开小差了，请稍后重试';
const GENERIC_MESSAGE = '请求失败，请稍后重试';

function messageFor(errorCode, statusCode) {
  if (errorCode && MESSAGES_BY_CODE[errorCode]) return MESSAGES_BY_CODE[errorCode];
  if (MESSAGES_BY_STATUS[statusCode]) return MESSAGES_BY_STATUS[statusCode];
  return statusCode >= 500 ? SERVER_ERROR_MESSAGE : GENERIC_MESSAGE;
}

// Plain prototype inheritance: `class extends Error` breaks instanceof after the ES5 transpile.
function ApiError(fields) {
  const f = fields || {};
  this.name = 'ApiError';
  this.statusCode = f.statusCode || 0;
  this.error_code = f.error_code || 'unknown_error';
  this.message = f.message || messageFor(this.error_code, this.statusCode);
  this.errors = f.errors || {};
  if (f.cause) this.cause = f.cause;
  this.stack = new Error(this.message).stack;
}
ApiError.prototype = Object.create(Error.prototype);
ApiError.prototype.constructor = ApiError;

// Build an ApiError from a non-2xx wx.request response whose body should be the error envelope.
function fromResponse(res) {
  const body = res.data && typeof res.data === 'object' ? res.data : {};
  const errorCode = typeof body.error_code === 'string' && body.error_code ? body.error_code : 'http_' + res.statusCode;
  const message = typeof body.message === 'string' && body.message ? body.message : messageFor(errorCode, res.statusCode);
  const errors = body.errors && typeof body.errors === 'object' ? body.errors : {};
  return new ApiError({ statusCode: res.statusCode, error_code: errorCode, message, errors });
}

function networkError(res) {
  const timedOut = /timeout/i.test((res && res.errMsg) || '');
  const errorCode = timedOut ? 'network_timeout' : 'network_error';
  return new ApiError({ statusCode: 0, error_code: errorCode, message: MESSAGES_BY_CODE[errorCode] });
}

module.exports = {
  ApiError,
  fromResponse,
  networkError,
  messageFor,
};
