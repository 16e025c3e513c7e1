// Consent for subscribe messages (wx.requestSubscribeMessage): each 'accept' lets the backend
// push one message of that template to the user's WeChat.
//
//   subscribe.askFor(['repairs.assigned', …]) -> Promise<{accepted: [templateId], rejected: [templateId]}>
//   subscribe.askFor(subscribe.ALL)             every template the backend offers
//
// WeChat shows the dialog only from a user tap, and refuses the call ("can only be invoked by user
// TAP gesture") when something asynchronous ran between the tap and the call. So:
// - call askFor first thing in a bindtap handler, before any request: on the 提交 tap of a repair,
//   `subscribe.askFor([...]); repairsApi.create(...)`, not inside the create's .then();
// - load the templates ahead with preload() (app launch, pages that ask): askFor then calls
//   wx.requestSubscribeMessage synchronously. Without the cache it loads the list first, and WeChat
//   may refuse the call, which is logged like any refusal.
// At most 3 templates per call (WeChat's limit), in the order of `events`. Nothing is asked when
// no template matches. askFor never rejects: failures are logged and resolve as nothing accepted.
const notificationsApi = require('../api/notifications');

const MAX_PER_CALL = 3;
const ALL = '*';

let cached = null; // [{event, template_id, title}], loaded once per launch
let loading = null;

function warn(what, detail) {
  console.warn('subscribe: ' + what, detail);
}

function nothing() {
  return { accepted: [], rejected: [] };
}

// Loads the template list once per launch; later calls use the cache.
function preload() {
  if (cached) return Promise.resolve(cached);
  if (!loading) {
    loading = notificationsApi.templates({ silent: true }).then(
      list => {
        cached = list || [];
        loading = null;
        return cached;
      },
      err => {
        loading = null;
        throw err;
      }
    );
  }
  return loading;
}

// Template ids for `events` (or ALL), without repeats, at most MAX_PER_CALL.
function pick(templates, events) {
  const wanted = events === ALL ? templates.map(t => t.event) : events || [];
  const ids = [];
  wanted.forEach(event => {
    templates.forEach(t => {
      if (t.event === event && t.template_id && ids.indexOf(t.template_id) < 0) ids.push(t.template_id);
    });
  });
  return ids.slice(0, MAX_PER_CALL);
}

// Resolves with the success result, or null after logging a failure.
function requestConsent(tmplIds) {
  return new Promise(resolve => {
    wx.requestSubscribeMessage({
      tmplIds,
      success: resolve,
      fail: res => {
        warn('requestSubscribeMessage failed', res && (res.errMsg || res.errCode));
        resolve(null);
      },
    });
  });
}

// The dialog's answers for the ids asked (errMsg dropped) are reported to the backend.
function ask(templates, events) {
  const tmplIds = pick(templates, events);
  const outcome = nothing();
  if (!tmplIds.length) return Promise.resolve(outcome);
  return requestConsent(tmplIds).then(res => {
    if (!res) return outcome;
    const results = {};
    tmplIds.forEach(id => {
      if (typeof res[id] !== 'string') return;
      results[id] = res[id];
      (res[id] === 'accept' ? outcome.accepted : outcome.rejected).push(id);
    });
    if (!Object.keys(results).length) return outcome;
    return notificationsApi.reportSubscriptions(results, { silent: true }).then(
      () => outcome,
      err => {
        warn('result not reported', err.error_code);
        return outcome;
      }
    );
  });
}

function askFor(events) {
  if (typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve(nothing());
  const asked = cached
    ? ask(cached, events)
    : preload().then(
        list => ask(list, events),
        err => {
          warn('templates not loaded', err.error_code);
          return nothing();
        }
      );
  return asked.catch(err => {
    warn('failed', err && err.message);
    return nothing();
  });
}

// Forgets the cached templates (tests).
function reset() {
  cached = null;
  loading = null;
}

module.exports = { askFor, preload, reset, ALL, MAX_PER_CALL };
