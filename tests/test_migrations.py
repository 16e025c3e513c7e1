"""The schema is made by the migrations, and the migrations match the models."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from app.config import ROOT_DIR
from app.core.db import db

VERSIONS = Path(ROOT_DIR) / "migrations" / "versions"


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(ctx, db.metadata)
    assert diff == [], f"models differ from the migrations; run `make migrate-new MSG=…`: {diff}"


def test_migration_files_are_dated():
    names = [p.name for p in VERSIONS.glob("*.py")]
    assert names
    for name in names:
        assert re.match(r"^\d{8}_\d{4}_[0-9a-f]+_\w+\.py$", name), name


def test_single_head(app):
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    assert len(script.get_heads()) == 1, "two migration heads: merge them"
