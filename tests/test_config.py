"""Settings from the environment, and production's refusals."""

from __future__ import annotations

import pytest

from app import config
from app.config import ConfigError, check_production, load_settings

PROD_OK = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "postgresql+psycopg://u@db/zhhq",
    "REDIS_URL": "redis://cache:6379/0",
    "WECHAT_SIMULATOR": "false",
    "WECHAT_APP_SECRET": "real-secret",
}


def test_environment_values_are_typed():
    values = load_settings(environ={"PORT": "8080", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "DEBUG"})
    assert values["PORT"] == 8080
    assert values["RATELIMIT_ENABLED"] is False
    assert values["LOG_LEVEL"] == "DEBUG"
    assert values["SCHOOL_TIMEZONE"] == "Asia/Shanghai"


def test_overrides_beat_environment():
    assert load_settings({"PORT": 9000}, environ={"PORT": "8080"})["PORT"] == 9000


def test_production_accepts_a_proper_configuration():
    check_production(load_settings(environ=PROD_OK))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"SECRET_KEY": config.DEV_SECRET}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"WECHAT_SIMULATOR": "true"}, "WECHAT_SIMULATOR"),
        ({"WECHAT_APP_SECRET": ""}, "WECHAT_APP_SECRET"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
    ],
)
def test_production_refuses_unsafe_settings(change, reason):
    values = load_settings(environ={**PROD_OK, **change})
    with pytest.raises(ConfigError, match=reason):
        check_production(values)


def test_production_refuses_debug():
    values = load_settings({"DEBUG": True}, environ=PROD_OK)
    with pytest.raises(ConfigError, match="DEBUG"):
        check_production(values)


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigError):
        check_production(load_settings(environ={"APP_ENV": "staging"}))


def test_readme_settings_table_is_current():
    readme = (config.ROOT_DIR / "README.md").read_text(encoding="utf-8")
    assert config.settings_table() in readme, "README settings table is stale: run `make settings-table`"


def test_commands_of_a_make_run_instance_use_its_secret(tmp_path):
    (tmp_path / config.SECRET_KEY_FILE).write_text("instance-secret-" + "x" * 40)
    assert load_settings(environ={"INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"].startswith("instance-secret-")
    # the environment wins, and production never falls back to a file
    assert load_settings(environ={"INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "s" * 40})["SECRET_KEY"] == "s" * 40
    production = load_settings(environ={**PROD_OK, "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": ""})
    assert production["SECRET_KEY"] == config.DEV_SECRET
