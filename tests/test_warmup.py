"""A fresh process starts warm: what the first request (a repair report, its photo, a lunch order) would
otherwise build lazily is built when the app starts (``create_app``; ``wsgi`` for the web and the worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.config import ROOT_DIR
from tests.conftest import TEST_SECRET

PROBE = """
import gc, json
from PIL import Image
from app.core import db
from app.core.db import Base
import app.models

def state():
    return {"mappers_configured": all(m.configured for m in Base.registry.mappers),
            "pillow_plugins": Image._initialized == 2, "frozen": gc.get_freeze_count() > 0,
            "prebuilt_compiled": bool(db._PREBUILT) and all(id(s) in db._COMPILED for s in db._PREBUILT)}

before = state()
import wsgi
print(json.dumps({"before": before, "after": state()}))
"""


def test_a_fresh_process_builds_at_start_what_the_first_report_would(service_urls, tmp_path):
    env = {**os.environ, **service_urls, "APP_ENV": "test", "SECRET_KEY": TEST_SECRET, "LOG_LEVEL": "WARNING",
           "INSTANCE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    states = json.loads(done.stdout.strip().splitlines()[-1])
    assert states["before"] == {"mappers_configured": False, "pillow_plugins": False, "frozen": False,
                                "prebuilt_compiled": False}
    assert states["after"] == {"mappers_configured": True, "pillow_plugins": True, "frozen": True,
                               "prebuilt_compiled": True}
