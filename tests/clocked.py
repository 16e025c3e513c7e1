"""Run a Python module on the test run's fixed clock: ``python -m tests.clocked -m flask worker …``.

The suite runs every test on a fixed clock (``tests/conftest.py``). A process a test starts (a real
``flask worker``) must share that clock, or its leases, heartbeats and timers would disagree with the
test's. The parent passes how far its clock is from the real one (``TEST_CLOCK_OFFSET``, seconds); this
runner moves the child's clock by the same amount (ticking), then runs the module as ``python -m``
would.
"""

from __future__ import annotations

import os
import runpy
import sys
import time

import time_machine


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "-m":
        raise SystemExit("usage: python -m tests.clocked -m <module> [args…]")
    offset = float(os.environ.get("TEST_CLOCK_OFFSET") or 0)
    if offset:
        time_machine.travel(time.time() + offset, tick=True).start()
    module = args[1]
    sys.argv = [module, *args[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
