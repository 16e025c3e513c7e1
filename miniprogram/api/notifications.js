// /api/v1/notifications — the inbox, subscribe-message consents — and the admin notices and
// deliveries. The paginated lists resolve with {items, pagination}: `pagination` is the parsed
// X-Pagination header ({total, total_pages, page, next_page?, …}) or null.
const { request, list: paged } = require('./request');

// params: {unread?, page?, page_size?}; newest first.
function list(params, options) {
  return paged('/api/v1/notifications', params, options);
}

// -> {unread: n}
function unreadCount(options) {
  return request(Object.assign({ url: '/api/v1/notifications/unread-count' }, options));
}

function markRead(id, options) {
  return request(Object.assign({ url: '/api/v1/notifications/' + id + '/read', method: 'POST' }, options));
}

// -> {marked: n}
function markAllRead(options) {
  return request(Object.assign({ url: '/api/v1/notifications/read-all', method: 'POST' }, options));
}

// -> [{event, template_id, title}]
function templates(options) {
  return request(Object.assign({ url: '/api/v1/notifications/templates' }, options));
}

// results: {<template_id>: 'accept' | 'reject' | 'ban' | 'filter'} -> {remaining: {<template_id>: n}}
function reportSubscriptions(results, options) {
  return request(Object.assign({ url: '/api/v1/notifications/subscriptions', method: 'POST', data: { results } }, options));
}

// notice: {title, body, roles, urgency} -> {recipients: n}
function sendNotice(notice, options) {
  return request(Object.assign({ url: '/api/v1/admin/notices', method: 'POST', data: notice }, options));
}

// params: {status?, channel?, page?, page_size?}
function listDeliveries(params, options) {
  return paged('/api/v1/admin/notifications', params, options);
}

function retryDelivery(id, options) {
  return request(Object.assign({ url: '/api/v1/admin/notifications/' + id + '/retry', method: 'POST' }, options));
}

module.exports = {
  list,
  unreadCount,
  markRead,
  markAllRead,
  templates,
  reportSubscriptions,
  sendNotice,
  listDeliveries,
  retryDelivery,
};
