// /api/v1/notifications — subscribe-message templates and the consents wx.requestSubscribeMessage gives.
const { request } = require('./request');

function templates(options) {
  return request(Object.assign({ url: '/api/v1/notifications/templates' }, options));
}

// results: the success result of wx.requestSubscribeMessage without errMsg, {templateId: 'accept' | ...}
function recordSubscriptions(results, options) {
  return request(Object.assign({ url: '/api/v1/notifications/subscriptions', method: 'POST', data: { results } }, options));
}

module.exports = { templates, recordSubscriptions };
