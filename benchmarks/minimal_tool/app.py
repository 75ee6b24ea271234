"""The anchor for the launch benchmark: a minimal LTI 1.3 tool in pylti1p3's own Flask example shape.

Like pylti1p3's example (github.com/dmitry-viskov/pylti1.3-flask-example): a tool configuration
from a dict, ``FlaskOIDCLogin`` for the login, ``FlaskMessageLaunch`` for the launch with the
platform's keys cached, Flask-Caching as the launch data storage, and a landing page rendered
from the launch data. Two things make it fit to run behind two gunicorn workers, as the product
does: the launch data storage is shared (Redis when ``REDIS_URL`` is set; otherwise pylti1p3's
default, the signed session cookie), and replay protection is on (a used nonce is recorded once,
in Redis or in a PostgreSQL table, and a second launch with it is refused).

Configuration from the environment: ``MINIMAL_TOOL_CONFIG`` (JSON: issuer, client_id,
deployment_id, auth_login_url, auth_token_url, key_set_url, private_key_file), ``DATABASE_URL``,
``REDIS_URL`` (optional), ``SECRET_KEY``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, render_template_string
from flask_caching import Cache
from pylti1p3.contrib.flask import (FlaskCacheDataStorage, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest)
from pylti1p3.exception import LtiException
from pylti1p3.tool_config import ToolConfDict
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert
from sqlalchemy.exc import DBAPIError, IntegrityError

LANDING = """<!doctype html><html lang="en"><head><title>Minimal tool</title></head><body>
<h1>Welcome, {{ name }}</h1><p>Course: {{ course }}</p><p>Roles: {{ roles|join(", ") }}</p></body></html>"""

metadata = MetaData()
used_nonce = Table("minimal_used_nonce", metadata, Column("nonce", String(255), primary_key=True))


def create_app() -> Flask:
    settings = json.loads(os.environ["MINIMAL_TOOL_CONFIG"])
    app = Flask(__name__)
    redis_url = os.environ.get("REDIS_URL")
    app.config.update(SECRET_KEY=os.environ["SECRET_KEY"], SESSION_COOKIE_SAMESITE="None",
                      SESSION_COOKIE_SECURE=True,
                      CACHE_TYPE="RedisCache" if redis_url else "SimpleCache", CACHE_REDIS_URL=redis_url,
                      CACHE_DEFAULT_TIMEOUT=600)
    cache = Cache(app)
    engine = None if redis_url else create_engine(os.environ["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1), pool_size=2)
    if engine is not None:
        try:
            metadata.create_all(engine)
        except DBAPIError:  # the other gunicorn worker created the table at the same moment
            metadata.create_all(engine)  # finds it now, and does nothing
    tool_conf = ToolConfDict({settings["issuer"]: [{
        "default": True, "client_id": settings["client_id"], "auth_login_url": settings["auth_login_url"],
        "auth_token_url": settings["auth_token_url"], "key_set_url": settings["key_set_url"], "key_set": None,
        "deployment_ids": [settings["deployment_id"]]}]})
    private_key = Path(settings["private_key_file"]).read_text()
    tool_conf.set_private_key(settings["issuer"], private_key, client_id=settings["client_id"])

    def launch_data_storage():
        return FlaskCacheDataStorage(cache) if redis_url else None

    def first_use(nonce: str) -> bool:
        """Replay protection: True the first time a nonce is seen, False ever after."""
        if redis_url:
            return bool(cache.cache._write_client.set("used-nonce-" + nonce, 1, nx=True, ex=600))
        try:
            with engine.begin() as conn:
                conn.execute(insert(used_nonce).values(nonce=nonce))
        except IntegrityError:
            return False
        return True

    @app.route("/lti/login", methods=["GET", "POST"])
    def login():
        flask_request = FlaskRequest()
        target_link_uri = flask_request.get_param("target_link_uri")
        storage = launch_data_storage()
        oidc = FlaskOIDCLogin(flask_request, tool_conf, launch_data_storage=storage) if storage else \
            FlaskOIDCLogin(flask_request, tool_conf)
        return oidc.enable_check_cookies().redirect(target_link_uri)

    @app.route("/lti/launch", methods=["POST"])
    def launch():
        flask_request = FlaskRequest()
        storage = launch_data_storage()
        message_launch = FlaskMessageLaunch(flask_request, tool_conf, launch_data_storage=storage) if storage \
            else FlaskMessageLaunch(flask_request, tool_conf)
        message_launch.set_public_key_caching(FlaskCacheDataStorage(cache), cache_lifetime=7200)
        try:
            data = message_launch.get_launch_data()
        except LtiException as e:
            return f"Launch refused: {e}", 403
        if not first_use(str(data["nonce"])):
            return "Launch refused: this launch was already used", 403
        # As in pylti1p3's example, the landing page is the launch response itself.
        return render_template_string(
            LANDING, name=data.get("name", ""), roles=data.get("https://purl.imsglobal.org/spec/lti/claim/roles", []),
            course=data.get("https://purl.imsglobal.org/spec/lti/claim/context", {}).get("title", ""))

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
