"""Devices: the generic adapter between our server and the controllers on site (parcel lockers first;
gates, door locks and meters later), shaped like the WeChat adapter:

* ``signing`` — HMAC-SHA256 over method, path, timestamp, nonce and the body's hash, with the device's
  own secret, both ways (our server → controller, controller → our server).
* ``models`` / ``service`` — the registry (one row per device: its code, kind, secret, address, last
  heartbeat), ``authenticate`` (a forged signature, a timestamp off by more than
  ``signing.MAX_SKEW_SECONDS`` or a nonce seen before: 401 ``devices.unauthorized``, nothing changed;
  nonces are kept once in Redis), heartbeats and "online" (a heartbeat within
  ``DEVICE_OFFLINE_SECONDS``).
* ``client`` — the real HTTP client (``requests``, explicit timeouts, errors mapped to
  ``DeviceOffline`` / ``DeviceRefused``) and ``LockerController``, the lockers' protocol on top of it.
* ``simulator`` — a locker controller offline (``python -m app.devices.simulator``) speaking the same
  protocol, with a control API; ``simulator_control`` drives it from tests and the dev seed.

A domain owns its devices' meaning: the lockers' API receives the door events and the codes typed at a
locker, asks ``service.authenticate`` who sent them, and calls ``LockerController`` to open doors.
"""
