// Jest globalSetup of the e2e project: start the live backend and export its URL as E2E_API_BASE
// (its WeChat simulator's as E2E_SIM_BASE, its locker simulator's as E2E_LOCKER_SIM_BASE).
// - E2E_API_BASE already set: use that backend, start nothing.
// - a backend that cannot start fails the run (never a skip).
const backend = require('./backend');

module.exports = async function globalSetup() {
  if (process.env.E2E_API_BASE) return;
  const started = await backend.start();
  globalThis.__E2E_BACKEND__ = started.child;
  process.env.E2E_API_BASE = started.baseUrl;
  process.env.E2E_SIM_BASE = started.simulatorUrl; // the WeChat simulator: wx.requestPayment pays there
  process.env.E2E_LOCKER_SIM_BASE = started.lockerSimulatorUrl; // the demo bank's doors (its /__sim__/ control API)
};
