"""Registration cannot be taken over: one-time links, no updates, no cross-host redirects, https only."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask, redirect
from werkzeug.serving import make_server

from lti_tool.extensions import db
from lti_tool.models import Platform, RegistrationInvite, utcnow
from tests.conftest import csrf_token_in, register
from tests.lti.test_registration import invite_path
from tests.lti_platform import landed, Launcher, TestPlatform

REG = {"registration_token": "reg-token-123"}


def config_url(lms: TestPlatform) -> str:
    return lms.issuer + "/.well-known/openid-configuration"


@pytest.fixture
def lms():
    platform = TestPlatform(client_id="dyn-client-7", deployment_id="dyn-deploy-1")
    yield platform
    platform.close()


class Redirector:
    """Another host (another port on loopback) with an open redirect, as any LMS has."""

    def __init__(self):
        app = Flask("redirector")
        self.hits = 0

        @app.get("/next")
        def follow():
            from flask import request

            self.hits += 1
            return redirect(request.args["to"], code=302)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def register_through(client, path, url):
    page = client.get(path, query_string={"openid_configuration": url, **REG})
    if page.status_code != 200:
        return page
    return client.post(path, data={"csrf_token": csrf_token_in(page), "openid_configuration": url, **REG})


def count_platforms(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(Platform.id))).scalar()


def test_register_without_a_link_fetches_nothing(app, client, lms):
    page = client.get("/lti/register", query_string={"openid_configuration": config_url(lms), **REG})
    assert page.status_code == 403 and "one-time registration link" in page.get_data(as_text=True)
    posted = client.post("/lti/register", data={"openid_configuration": config_url(lms), **REG})
    assert posted.status_code in (400, 403)  # no CSRF token, and no link either way
    assert lms.openid_fetches == 0 and lms.registrations == []
    assert count_platforms(app) == 0


@pytest.mark.parametrize("token", ["made-up-token", ""])
def test_an_unknown_link_fetches_nothing(app, client, lms, token):
    page = client.get(f"/lti/register/{token}x", query_string={"openid_configuration": config_url(lms), **REG})
    assert page.status_code == 403 and "not valid" in page.get_data(as_text=True)
    assert lms.openid_fetches == 0


def test_a_link_registers_once(app, client, runner, lms):
    path = invite_path(runner)
    assert register_through(client, path, config_url(lms)).status_code == 200
    second = TestPlatform(client_id="other")
    try:
        again = client.get(path, query_string={"openid_configuration": config_url(second), **REG})
        assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
        assert second.openid_fetches == 0
    finally:
        second.close()
    assert count_platforms(app) == 1
    with app.app_context():
        from lti_tool.models import AuditEvent

        [logged] = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "registration")).scalars()
        assert logged.actor_role == "platform" and logged.details["via"] == "dynamic"
        assert logged.details["change"] == "added" and logged.deployment_id is not None


def test_an_expired_link_is_refused(app, client, runner, lms):
    path = invite_path(runner, "--expires", "30m")
    with app.app_context():
        db.session.execute(db.update(RegistrationInvite).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = client.get(path, query_string={"openid_configuration": config_url(lms), **REG})
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    assert lms.openid_fetches == 0


def test_only_the_hash_of_the_link_is_stored(app, runner):
    token = invite_path(runner).rsplit("/", 1)[1]
    with app.app_context():
        [row] = db.session.execute(db.select(RegistrationInvite)).scalars().all()
        assert token not in row.token_hash and len(row.token_hash) == 64


def test_a_link_for_one_lms_refuses_another(app, client, runner, lms):
    path = invite_path(runner, "--lms-url", "https://moodle.example.com/")
    page = client.get(path, query_string={"openid_configuration": config_url(lms), **REG})
    assert page.status_code == 403 and "https://moodle.example.com" in page.get_data(as_text=True)
    assert lms.openid_fetches == 0


def test_registration_never_changes_an_existing_platform(app, client, runner, lms):
    """The attack: re-register the real LMS's (issuer, client id) with the attacker's keys and login URL."""
    from lti_tool.lti.registration import save_platform

    real = dict(auth_login_url="https://lms.example/auth", auth_token_url="https://lms.example/token",
                jwks_url="https://lms.example/jwks")
    with app.app_context():
        save_platform(issuer=lms.issuer, client_id="dyn-client-7", deployment_id="1", **real)
    page = register_through(client, invite_path(runner), config_url(lms))
    assert page.status_code == 409
    assert "already registered" in page.get_data(as_text=True) and "platform add" in page.get_data(as_text=True)
    with app.app_context():
        after = db.session.execute(db.select(Platform)).scalar_one()
        assert dict(auth_login_url=after.auth_login_url, auth_token_url=after.auth_token_url,
                    jwks_url=after.jwks_url) == real
        # The refused registration did not spend the link.
        assert db.session.execute(db.select(RegistrationInvite.used_at)).scalar_one() is None


def test_cli_changes_an_existing_platform_and_logs_it(app, runner, platform, caplog):
    args = ["platform", "add", "--issuer", platform.issuer, "--client-id", platform.client_id,
            "--deployment-id", platform.deployment_id, "--auth-login-url", platform.issuer + "/auth2",
            "--auth-token-url", platform.issuer + "/token", "--jwks-url", platform.issuer + "/jwks"]
    with caplog.at_level("WARNING", logger="lti_tool.lti.registration"):
        assert runner.invoke(args=args).exit_code == 0
    assert any("platform changed" in r.message and "auth_login_url" in r.message for r in caplog.records)
    with app.app_context():
        from lti_tool.models import AuditEvent

        assert db.session.execute(db.select(Platform.auth_login_url)).scalar_one() == platform.issuer + "/auth2"
        changes = db.session.execute(db.select(AuditEvent.details).where(AuditEvent.action == "registration")
                                     .order_by(AuditEvent.id)).scalars().all()
        assert [c["change"] for c in changes] == ["added", "changed"]


def test_no_redirect_to_another_host_is_followed(app, client, runner, lms):
    """A configuration reached through an open redirect on another host is refused, not fetched."""
    hop = Redirector()
    try:
        url = f"{hop.base}/next?to={config_url(lms)}"
        page = client.get(invite_path(runner), query_string={"openid_configuration": url, **REG})
        assert page.status_code == 502 and "redirects to another host" in page.get_data(as_text=True)
        assert hop.hits == 1 and lms.openid_fetches == 0
    finally:
        hop.close()
    assert count_platforms(app) == 0


def test_https_is_required_without_the_development_setting(app, client, runner, lms, monkeypatch):
    monkeypatch.setitem(app.config, "LTI_ALLOW_HTTP", False)
    page = client.get(invite_path(runner), query_string={"openid_configuration": config_url(lms), **REG})
    assert page.status_code == 502 and "https" in page.get_data(as_text=True)
    assert lms.openid_fetches == 0
    args = ["platform", "add", "--issuer", "http://lms.example", "--client-id", "abc", "--deployment-id", "1",
            "--auth-login-url", "https://lms.example/auth", "--auth-token-url", "https://lms.example/token",
            "--jwks-url", "https://lms.example/jwks"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "issuer must be an https URL" in result.output
    ok = runner.invoke(args=[*args[:3], "https://lms.example", *args[4:]])
    assert ok.exit_code == 0, ok.output


def test_registration_page_is_framable_by_the_registering_lms_only(app, client, runner, lms):
    path = invite_path(runner)
    page = client.get(path, query_string={"openid_configuration": config_url(lms), **REG})
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].endswith(f"frame-ancestors 'self' {lms.issuer}")
    pinned = client.get(invite_path(runner, "--lms-url", "https://moodle.example.com/admin/"),
                        query_string={"openid_configuration": "https://moodle.example.com/x", **REG})
    assert "frame-ancestors 'self' https://moodle.example.com" in pinned.headers["Content-Security-Policy"]


def test_every_worker_frames_a_new_platform_at_once(app, client, runner, lms, database_url):
    """A second app process on the same database (another worker) agrees straight after a registration."""
    from lti_tool import create_app

    other = create_app("config.settings.TestingConfig", SQLALCHEMY_DATABASE_URI=database_url)
    other_client = other.test_client()
    before = other_client.get("/lti/login", query_string={"iss": lms.issuer, "login_hint": "x",
                                                           "client_id": "dyn-client-7",
                                                           "target_link_uri": "https://tool.test/lti/launch"},
                              base_url="https://tool.test")
    assert lms.issuer not in before.headers["Content-Security-Policy"]
    assert register_through(client, invite_path(runner), config_url(lms)).status_code == 200
    after = other_client.get("/lti/login", query_string={"iss": lms.issuer, "login_hint": "x",
                                                          "client_id": "dyn-client-7", "lti1p3_new_window": "1",
                                                          "target_link_uri": "https://tool.test/lti/launch"},
                             base_url="https://tool.test")
    assert f"frame-ancestors 'self' {lms.issuer}" in after.headers["Content-Security-Policy"]
    with other.app_context():
        db.engine.dispose()


def test_frame_ancestors_name_only_the_platform_of_the_launch(app, client, platform):
    other = TestPlatform(client_id="tenant-2")
    try:
        register(app, other)
        assert "frame-ancestors 'self';" in client.get("/lti/config").headers["Content-Security-Policy"] + ";"
        response = Launcher(client, platform)(role="learner")
        page = response  # the landing page itself
        assert landed(page)
        csp = page.headers["Content-Security-Policy"]
        assert f"frame-ancestors 'self' {platform.issuer}" in csp and other.issuer not in csp
    finally:
        other.close()
