// Subscribe messages: WeChat only sends one after the user accepted that template, once per accept.
// wx.requestSubscribeMessage must run inside a tap handler, so template ids are loaded ahead of time
// (load) and ask() is called synchronously from the tap; the result is reported to the backend,
// which counts the consents.
const notificationsApi = require('../api/notifications');

let cache = null; // [{event, template_id, title}]

function load() {
  if (cache) return Promise.resolve(cache);
  return notificationsApi.templates({ silent: true }).then(
    list => {
      cache = list || [];
      return cache;
    },
    () => []
  );
}

function idsFor(events) {
  return (cache || []).filter(t => events.indexOf(t.event) >= 0).map(t => t.template_id);
}

// From a tap: ask for the templates of `events`; resolves with the number accepted (0 when the user
// declined, WeChat refused, or the templates are not loaded yet).
function ask(events) {
  const tmplIds = idsFor(events);
  if (!tmplIds.length || typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve(0);
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds,
      success: res => {
        const results = {};
        tmplIds.forEach(id => {
          if (res[id]) results[id] = res[id];
        });
        const accepted = tmplIds.filter(id => res[id] === 'accept').length;
        if (!Object.keys(results).length) {
          resolve(0);
          return;
        }
        notificationsApi.recordSubscriptions(results, { silent: true }).then(() => resolve(accepted), () => resolve(0));
      },
      fail: () => resolve(0),
    });
  });
}

function reset() {
  cache = null;
}

module.exports = { load, ask, reset };
