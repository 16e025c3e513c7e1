// This machine's settings for the develop version. Copy this file to config/local.js (git-ignored)
// and edit it; without config/local.js the develop version talks to http://127.0.0.1:5000.
//
// developBaseUrl: the address `make run` prints on its "API" line, without "/api/v1":
//   PORT=5050 make run                 -> 'http://127.0.0.1:5050'
//   HOST=0.0.0.0 make run (a phone)    -> 'http://<this computer's LAN address>:5000'
// trial and release builds ignore it (config/env.js BASE_URLS).
module.exports = {
  developBaseUrl: 'http://127.0.0.1:5000',
};
