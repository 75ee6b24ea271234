"""Probes for a load balancer or orchestrator.

* ``GET /healthz`` (liveness): 200 as long as the process answers; it touches nothing else, so a
  database outage does not get healthy processes restarted.
* ``GET /readyz`` (readiness): 200 when the database answers, its schema is at the migrations this
  code ships, and Redis answers (when ``REDIS_URL`` is set); otherwise 503 naming each failing part,
  so the proxy sends no traffic to an instance that cannot serve it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    problems = {}
    database = database_problem()
    if database:
        problems["database"] = database
    else:
        migrations = migrations_problem()
        if migrations:
            problems["migrations"] = migrations
    if current_app.config.get("REDIS_URL"):
        redis = redis_problem()
        if redis:
            problems["redis"] = redis
    if problems:
        return jsonify(status="not ready", failing=sorted(problems), problems=problems), 503
    return jsonify(status="ready", checks=["database", "migrations"] + (["redis"] if current_app.config.get(
        "REDIS_URL") else []))


def database_problem() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - the point is to report, not raise
        db.session.rollback()
        return f"unreachable ({e.__class__.__name__})"
    return None


@lru_cache(maxsize=1)
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    """The migration heads this code ships and every revision it knows (read once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


def code_heads() -> frozenset[str]:
    return _scripts()[0]


def migrations_problem() -> str | None:
    try:
        applied = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # noqa: BLE001 - no table: never migrated
        db.session.rollback()
        applied = set()
    finally:
        db.session.rollback()  # end the read transaction: a probe holds nothing open
    heads, known = _scripts()
    if applied == set(heads):
        return None
    if applied - known:
        # A newer release already migrated the database (a rolling upgrade): migrations only add, so this
        # instance keeps serving until it is replaced.
        return None
    return (f"database schema at {', '.join(sorted(applied)) or 'nothing'}, this code needs "
            f"{', '.join(sorted(code_heads()))}: run `flask --app lti_tool db upgrade`")


def redis_problem() -> str | None:
    from .lti.storage import redis_client

    config = current_app.config
    client = redis_client(config["REDIS_URL"], config["REDIS_TIMEOUT_SECONDS"])
    try:
        client.ping()
    except Exception as e:  # noqa: BLE001 - any failure means not ready
        return f"unreachable ({e.__class__.__name__})"
    finally:
        client.close()
    return None
