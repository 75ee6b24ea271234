"""Configuration: defaults here, secrets and deployment details from the environment.

``create_app`` picks ``ProductionConfig`` unless told otherwise; ``make demo`` and the tests use
``DevelopmentConfig`` and ``TestingConfig``. Every environment variable read here is described in
docs/deploy.md (and docs/security.md for the outbound guards).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def database_url(default: str | None) -> str | None:
    """Return DATABASE_URL normalised to SQLAlchemy's psycopg 3 driver name."""
    url = os.environ.get("DATABASE_URL") or default
    if url and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class BaseConfig:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/") or None
    SQLALCHEMY_DATABASE_URI = database_url(f"sqlite:///{INSTANCE / 'lab.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled connection idle this long is tested before use (lti_tool.extensions.ping_idle_connections);
    # pinging on every checkout instead would cost a database round trip per request.
    DB_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", "10"))
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Several deployments (or test runs) may share one Redis: each uses its own key prefix and queue.
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "rml:")
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "rml")
    REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "2"))
    # After a Redis error, launch data goes to the database this long before Redis is tried again.
    REDIS_RETRY_SECONDS = float(os.environ.get("REDIS_RETRY_SECONDS", "5"))
    SMTP_URL = os.environ.get("SMTP_URL") or None
    SMTP_CAFILE = os.environ.get("SMTP_CAFILE") or None  # extra CA certificates (PEM) trusted for SMTP TLS
    OUTBOX_DIR = str(INSTANCE / "outbox")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Reciprocal Mentoring Lab <mentoring-lab@localhost>")
    # A message that could not be delivered is tried again after these waits (the last one repeats), up to
    # MAIL_MAX_ATTEMPTS tries; then it needs the facilitator's attention. The sweep job (`rq cron
    # lti_tool.cron`, every SWEEP_INTERVAL_SECONDS) sends what is due. A message is held for
    # MAIL_SEND_LEASE_SECONDS while one worker sends it, so no other worker sends it too.
    MAIL_RETRY_SECONDS = [int(s) for s in os.environ.get("MAIL_RETRY_SECONDS", "60,300,1800,7200").split(",")]
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "6"))
    MAIL_SEND_LEASE_SECONDS = int(os.environ.get("MAIL_SEND_LEASE_SECONDS", "120"))
    # How often the sweep runs (read by lti_tool.cron too): what a job left unsent goes out within this time.
    SWEEP_INTERVAL_SECONDS = int(os.environ.get("SWEEP_INTERVAL_SECONDS", "60"))
    # A matching run still queued or running this long after it was started is failed (with a Retry).
    MATCH_RUN_TIMEOUT_SECONDS = int(os.environ.get("MATCH_RUN_TIMEOUT_SECONDS", "900"))
    LTI_DEV_PLATFORM = env_flag("LTI_DEV_PLATFORM")
    # Platforms whose clocks run a few seconds fast would otherwise fail every launch ("iat").
    LTI_CLOCK_LEEWAY_SECONDS = int(os.environ.get("LTI_CLOCK_LEEWAY_SECONDS", "30"))
    # How long a rotated-out public key stays in /lti/jwks so in-flight tokens still verify.
    LTI_KEY_GRACE_DAYS = int(os.environ.get("LTI_KEY_GRACE_DAYS", "7"))
    LTI_PLATFORM_KEYS_CACHE_SECONDS = 3600
    # How long a worker answers logins and launches from its own copy of a platform and deployment row
    # (0: read them on every login and launch). A change made in this worker is seen at once.
    LTI_PLATFORM_MEMO_SECONDS = int(os.environ.get("LTI_PLATFORM_MEMO_SECONDS", "30"))
    # Behind a TLS-terminating proxy, the number of proxies to trust for X-Forwarded-*.
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "1"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_NAME = "rml_session"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    WTF_CSRF_SSL_STRICT = False  # the LMS iframe sends no same-origin Referer on first POSTs
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    MIN_GROUP_SIZE = int(os.environ.get("MIN_GROUP_SIZE", "5"))
    # After a data change, an insights page that took longer than this to build is rebuilt in the background
    # while the previous one is shown, marked with its time (large deployments: the privacy audit is slow).
    INSIGHTS_REBUILD_INLINE_SECONDS = float(os.environ.get("INSIGHTS_REBUILD_INLINE_SECONDS", "2"))
    # ... and such a page is brought up to date at most this often (each rebuild audits every row again).
    INSIGHTS_REFRESH_SECONDS = float(os.environ.get("INSIGHTS_REFRESH_SECONDS", "120"))
    # Calls to an LMS (registration, key sets, tokens, roster, grades): see lti_tool/lti/outbound.py.
    LTI_ALLOW_HTTP = env_flag("LTI_ALLOW_HTTP")  # plain-http LMS endpoints: development only
    OUTBOUND_ALLOW_PRIVATE_NETWORKS = env_flag("OUTBOUND_ALLOW_PRIVATE_NETWORKS")  # development only
    # An LMS on the company's own network: its address ranges, e.g. "10.20.0.0/16,fd00:1::/64".
    OUTBOUND_ALLOWED_NETWORKS = [n.strip() for n in os.environ.get("OUTBOUND_ALLOWED_NETWORKS", "").split(",")
                                 if n.strip()]
    OUTBOUND_TIMEOUT_SECONDS = float(os.environ.get("OUTBOUND_TIMEOUT_SECONDS", "10"))
    OUTBOUND_MAX_BYTES = int(os.environ.get("OUTBOUND_MAX_BYTES", str(5 * 1024 * 1024)))
    # Request bodies larger than this get a 413 page (roster CSVs are the largest legitimate upload).
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(5 * 1024 * 1024)))
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    # Personal data of cohorts that ended longer ago than this is removed by `flask data purge`.
    RETENTION_MONTHS = int(os.environ.get("RETENTION_MONTHS", "18"))
    REFLECTION_EDIT_HOURS = 72  # a submitted reflection stays editable this long
    # Operations: JSON log lines (LOG_FORMAT=json) and Prometheus metrics at /metrics for a bearer token.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    # Calls to LMS services (roster, scores): access tokens are reused until this long before they expire,
    # and a 429 or 5xx answer is retried this many times, waiting at most LTI_SERVICE_MAX_WAIT_SECONDS.
    LTI_TOKEN_EXPIRY_MARGIN_SECONDS = int(os.environ.get("LTI_TOKEN_EXPIRY_MARGIN_SECONDS", "60"))
    LTI_SERVICE_RETRIES = int(os.environ.get("LTI_SERVICE_RETRIES", "3"))
    LTI_SERVICE_MAX_WAIT_SECONDS = float(os.environ.get("LTI_SERVICE_MAX_WAIT_SECONDS", "10"))
    TESTING = False


class ProductionConfig(BaseConfig):
    """Refuses to start without the secrets a real deployment needs."""

    @classmethod
    def check(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "PUBLIC_BASE_URL") if not getattr(cls, name)]
        if not os.environ.get("DATABASE_URL"):
            missing.append("DATABASE_URL")
        if missing:
            raise RuntimeError(
                "Production configuration needs these environment variables: " + ", ".join(missing)
                + ". For a local demo run `make demo` (development configuration)."
            )
        for flag in ("LTI_DEV_PLATFORM", "LTI_ALLOW_HTTP", "OUTBOUND_ALLOW_PRIVATE_NETWORKS"):
            if getattr(cls, flag):
                raise RuntimeError(f"{flag} must never be enabled in production (use OUTBOUND_ALLOWED_NETWORKS "
                                   "for an LMS on the company network).")


class DevelopmentConfig(BaseConfig):
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-secret-key"
    LTI_ALLOW_HTTP = True  # the development platform runs on http://127.0.0.1
    OUTBOUND_ALLOW_PRIVATE_NETWORKS = True

    @classmethod
    def check(cls) -> None:
        return None


class TestingConfig(BaseConfig):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    REDIS_URL = None
    SMTP_URL = None
    LTI_DEV_PLATFORM = False
    PUBLIC_BASE_URL = "https://tool.test"
    LTI_ALLOW_HTTP = True  # the test LMS runs on http://127.0.0.1; tests of the guards switch these off
    OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    LTI_SERVICE_MAX_WAIT_SECONDS = 0.05  # back-off waits stay short; tests of the back-off set their own

    @classmethod
    def check(cls) -> None:
        return None
