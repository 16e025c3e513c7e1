// /api/v1/auth/* — called by services/session.js; none of them sends the access token.
const { request } = require('./request');

function wechatLogin(code, options) {
  return request(Object.assign({ url: '/api/v1/auth/wechat-login', method: 'POST', data: { code }, auth: false }, options));
}

function refresh(refreshToken, options) {
  return request(
    Object.assign({ url: '/api/v1/auth/refresh', method: 'POST', data: { refresh_token: refreshToken }, auth: false }, options)
  );
}

function logout(refreshToken, options) {
  return request(
    Object.assign({ url: '/api/v1/auth/logout', method: 'POST', data: { refresh_token: refreshToken }, auth: false }, options)
  );
}

module.exports = { wechatLogin, refresh, logout };
