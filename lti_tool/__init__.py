"""Reciprocal Mentoring Lab: the Flask application (LTI 1.3 tool)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import import_string

from .extensions import cache, commit_read_only_transactions, csrf, db, migrate, ping_idle_connections

ROOT = Path(__file__).resolve().parent.parent


CONFIGS = {"production": "config.settings.ProductionConfig", "development": "config.settings.DevelopmentConfig"}


def create_app(config_class: str | type | None = None, **overrides) -> Flask:
    """Create and configure the LTI tool application.

    Without an explicit class, ``LAB_ENV`` picks it: ``production`` (the default) or ``development``.
    """
    if config_class is None:
        env = os.environ.get("LAB_ENV", "production")
        if env not in CONFIGS:
            raise RuntimeError(f"LAB_ENV must be one of {', '.join(CONFIGS)}, not {env!r}.")
        config_class = CONFIGS[env]
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.from_object(config_class)
    app.config.update(overrides)
    config_obj = config_class if isinstance(config_class, type) else import_string(config_class)
    if hasattr(config_obj, "check"):
        config_obj.check()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=app.config["PROXY_HOPS"],
                            x_host=app.config["PROXY_HOPS"], x_port=app.config["PROXY_HOPS"])
    from .lti.cookies import IframeSessionInterface
    app.session_interface = IframeSessionInterface()

    if app.config.get("REDIS_URL") and not app.config.get("CACHE_TYPE"):
        # Redis, with the database standing in while Redis does not answer (lti/storage.py).
        app.config.update(CACHE_TYPE="lti_tool.lti.storage.RedisWithDatabaseFallback",
                          CACHE_REDIS_URL=app.config["REDIS_URL"], CACHE_KEY_PREFIX=app.config["REDIS_KEY_PREFIX"])
    app.config.setdefault("CACHE_TYPE", "lti_tool.lti.storage.DatabaseCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 3600)

    db.init_app(app)
    with app.app_context():
        ping_idle_connections(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])
        commit_read_only_transactions(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    cache.init_app(app)

    from . import auth, errors, i18n, observability, security
    observability.init_app(app)  # JSON logs (LOG_FORMAT=json), /metrics, a count and a log line per request
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.before_request(auth.load_launch_context)
    from .services import grades, insights_store
    grades.init_app(app)
    insights_store.init_app(app)  # the insights' summary rows and version, kept at every commit

    from . import check_in_links, cli, feeds, health
    from .facilitator import bp as facilitator_bp
    from .insights import bp as insights_bp
    from .learner import bp as learner_bp
    from .lti import bp as lti_bp
    for bp in (health.bp, lti_bp, learner_bp, facilitator_bp, insights_bp, feeds.bp, check_in_links.bp):
        app.register_blueprint(bp)
    if app.config.get("LTI_DEV_PLATFORM"):
        from .dev import bp as dev_bp
        app.register_blueprint(dev_bp)
    cli.init_app(app)
    from .lti.storage import register_commands
    register_commands(app)  # `storage purge`, next to the operations it serves

    @app.get("/")
    def index():
        from flask import redirect, url_for
        if app.config.get("LTI_DEV_PLATFORM"):
            return redirect(url_for("dev.index"))
        return redirect(url_for("lti.setup"))

    logging.getLogger(__name__).debug("app created with %s", config_class)
    return app
