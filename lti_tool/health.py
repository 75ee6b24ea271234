"""Health check: 200 when the app and its database answer."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - the whole point is to report, not raise
        db.session.rollback()
        return jsonify(status="error", database=str(e.__class__.__name__)), 503
    return jsonify(status="ok", database="ok")
