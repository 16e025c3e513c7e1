// What every e2e file starts with: the app's own modules against the live backend globalSetup.js
// started (E2E_API_BASE), signed in as a demo user of the WeChat simulator (login code `demo-<role>`).
//
//   const live = require('./live');
//   beforeAll(() => {
//     session = live.connect('demo-teacher');   // then require the api/ modules the file uses
//   });
//   const worker = await live.logInAs('worker'); // another demo user, who has that role
//   const parent = await live.switchTo('demo-parent');
const { fetchWx } = require('./fetch-wx');

// global.wx by fetch (fetch-wx.js) whose wx.login gives `loginCode`, config/env pointed at the
// backend, and services/session loaded (it registers the login api/request.js runs on first use).
// Returns services/session.
function connect(loginCode) {
  const base = process.env.E2E_API_BASE;
  if (!base) throw new Error('E2E_API_BASE is not set: tests/e2e/globalSetup.js could not start the backend');
  global.wx = fetchWx(loginCode);
  require('../../config/env').setBaseUrl(base);
  return require('../../services/session');
}

// A fresh session with another login code: the stored tokens are cleared, wx.login gives the new
// code. Resolves with the user.
function switchTo(loginCode) {
  require('../../services/tokens').clear();
  global.wx = fetchWx(loginCode);
  return require('../../services/session').ensureLogin();
}

// switchTo the demo user of `role`, who has that role.
async function logInAs(role) {
  const user = await switchTo('demo-' + role);
  expect(user.roles).toContain(role);
  return user;
}

module.exports = { connect, switchTo, logInAs };
