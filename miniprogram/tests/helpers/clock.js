// The clock of the unit tests. Every test starts on a fixed clock, TEST_CLOCK (an ISO time; by default
// a school Wednesday at 12:00 in Shanghai), and time ticks on from there. `make test` runs the unit
// tests once at 00:30 and once at 12:00 school time, so a test that depends on the time of day or the
// date without saying so fails by day as well as by night. A test that depends on it says so:
//
//   const clock = require('../helpers/clock');
//   beforeEach(() => clock.set('2026-10-14T12:00:00+08:00'));   // this test, ticking from there
//   beforeAll(() => clock.pin(NOW, { tick: false }));           // every test of this file, frozen
//
// Only Date moves: timers stay real, so the fake network of helpers/wx keeps answering.
const RealDate = global.__RealDate || Date;
global.__RealDate = RealDate;

const DEFAULT = '2026-10-14T12:00:00+08:00';
let offset = 0; // ticking: now = real now + offset
let frozenAt = null; // frozen: now = frozenAt
let pinned = null; // the file's own clock, kept across tests

function parse(iso) {
  const ms = RealDate.parse(iso);
  if (Number.isNaN(ms)) throw new Error('clock: not an ISO time: ' + iso);
  return ms;
}

function now() {
  return frozenAt === null ? RealDate.now() + offset : frozenAt;
}

class ClockDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(now());
    else super(...args);
  }

  static now() {
    return now();
  }
}

// This test's clock: `iso`, ticking on unless {tick: false}.
function set(iso, options) {
  const ms = parse(iso);
  const tick = !options || options.tick !== false;
  frozenAt = tick ? null : ms;
  offset = ms - RealDate.now();
  global.Date = ClockDate;
}

// The clock of every later test of this file (set again before each one).
function pin(iso, options) {
  pinned = { iso, options };
  set(iso, options);
}

// Before each test: the file's pinned clock, else the run's fixed one.
function reset() {
  if (pinned) set(pinned.iso, pinned.options);
  else set(process.env.TEST_CLOCK || DEFAULT);
}

module.exports = { set, pin, reset, DEFAULT };
