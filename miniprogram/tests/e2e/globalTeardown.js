// Jest globalTeardown of the e2e project: stop the backend globalSetup started, if any.
const backend = require('./backend');

module.exports = async function globalTeardown() {
  const child = globalThis.__E2E_BACKEND__;
  globalThis.__E2E_BACKEND__ = null;
  if (child) await backend.stop(child);
};
