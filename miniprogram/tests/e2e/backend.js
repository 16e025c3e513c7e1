// Starts and stops the live backend for the e2e project:
//   ../.venv/bin/python -m app.devrun serve-e2e --state-file <tmpfile>
// The backend writes {"base_url": "http://127.0.0.1:PORT", "simulator_url": …, "locker_simulator_url": …} to the
// state file once it serves (the WeChat simulator; the locker simulator playing the demo bank's controller).
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '../../..');
const START_TIMEOUT_MS = 120 * 1000;
const STOP_TIMEOUT_MS = 30 * 1000;
const POLL_MS = 200;

function python() {
  return process.env.E2E_PYTHON || path.join(REPO_ROOT, '.venv', 'bin', 'python');
}

function tail(file) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch (e) {
    return '(no output)';
  }
}

function readState(file) {
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8'));
    return state && typeof state.base_url === 'string' && state.base_url ? state : null;
  } catch (e) {
    return null; // not written yet, or written half-way
  }
}

// -> Promise<{child, baseUrl, dir}>; rejects with the backend's output when it cannot start.
function start() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-e2e-'));
  const stateFile = path.join(dir, 'state.json');
  const logFile = path.join(dir, 'backend.log');
  const log = fs.openSync(logFile, 'a');
  const exe = python();

  return new Promise((resolve, reject) => {
    if (!fs.existsSync(exe)) {
      reject(new Error('e2e backend: ' + exe + ' not found (create the backend virtualenv first, e.g. make test)'));
      return;
    }
    const child = spawn(exe, ['-m', 'app.devrun', 'serve-e2e', '--state-file', stateFile], {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ['ignore', log, log],
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    let timer = null;
    let settled = false;

    function finish(err, value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fs.closeSync(log);
      if (err) reject(err);
      else resolve(value);
    }

    child.on('error', err => finish(new Error('e2e backend: cannot run ' + exe + ': ' + err.message)));
    child.on('exit', (code, signal) => {
      finish(new Error('e2e backend exited early (code ' + code + ', signal ' + signal + '). Output:\n' + tail(logFile)));
    });

    (function poll() {
      const state = readState(stateFile);
      if (state) {
        const url = key => (state[key] || '').replace(/\/+$/, '');
        finish(null, { child, baseUrl: url('base_url'), simulatorUrl: url('simulator_url'), lockerSimulatorUrl: url('locker_simulator_url'), dir });
      } else if (Date.now() > deadline) {
        const err = new Error('e2e backend did not write ' + stateFile + ' within 120 s. Output:\n' + tail(logFile));
        settled = true;
        fs.closeSync(log);
        stop(child).then(() => reject(err));
      } else {
        timer = setTimeout(poll, POLL_MS);
      }
    })();
  });
}

// SIGTERM, then wait for the process to exit (SIGKILL after 30 s).
function stop(child) {
  return new Promise(resolve => {
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

module.exports = { start, stop, REPO_ROOT };
