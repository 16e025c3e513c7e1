"""Load benchmarks: ``python -m bench <scenario>`` (``make bench SCENARIO=…``); see bench/README.md.

The runner imports scenario modules, and so locust, only to read their hooks and attributes; the
load itself is driven by a separate locust process. Importing locust normally monkey-patches the
whole process for gevent, which would turn the runner's subprocess, socket and psycopg calls
cooperative, so the patch is switched off here, before anything can import locust. The runner
removes the variable again from the environment of the locust process it starts.
"""

import os

os.environ.setdefault("LOCUST_SKIP_MONKEY_PATCH", "1")
