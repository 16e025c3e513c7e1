"""``python -m bench <scenario> [options]`` — see bench/README.md."""

import sys

from bench.runner import main

sys.exit(main())
