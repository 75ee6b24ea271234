"""LTI Dynamic Registration against the test platform, /lti/config, and the CLI registration."""
from __future__ import annotations

from datetime import timedelta

from lti_tool.extensions import db
from lti_tool.models import Deployment, Platform, ToolKey, utcnow
from tests.conftest import csrf_token_in
from tests.lti_platform import landed, Launcher, TestPlatform


def invite_path(runner, *args) -> str:
    """A one-time registration link made with the CLI, as the path the LMS opens."""
    result = runner.invoke(args=["platform", "invite", *args])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://tool.test/lti/register/")
    return url.removeprefix("https://tool.test")


def test_dynamic_registration_registers_platform_and_deployment(app, client, runner):
    lms = TestPlatform(client_id="dyn-client-7", deployment_id="dyn-deploy-1")
    path = invite_path(runner)
    try:
        config_url = lms.issuer + "/.well-known/openid-configuration"
        page = client.get(path, query_string={"openid_configuration": config_url,
                                              "registration_token": "reg-token-123"})
        assert page.status_code == 200 and lms.issuer in page.get_data(as_text=True)
        done = client.post(path, data={"csrf_token": csrf_token_in(page),
                                                  "openid_configuration": config_url,
                                                  "registration_token": "reg-token-123"})
        assert done.status_code == 200
        assert "org.imsglobal.lti.close" in done.get_data(as_text=True)
        [sent] = lms.registrations
        assert sent["initiate_login_uri"] == "https://tool.test/lti/login"
        assert sent["redirect_uris"] == ["https://tool.test/lti/launch"]
        assert sent["jwks_uri"] == "https://tool.test/lti/jwks"
        tool_conf = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
        assert {m["type"] for m in tool_conf["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
        with app.app_context():
            platform = db.session.execute(db.select(Platform).filter_by(issuer=lms.issuer)).scalar_one()
            assert platform.client_id == "dyn-client-7" and platform.registered_via == "dynamic"
            assert platform.jwks_url == lms.issuer + "/jwks"
            assert db.session.execute(db.select(Deployment).filter_by(platform_id=platform.id)).scalar_one() \
                .deployment_id == "dyn-deploy-1"
        # The freshly registered platform can launch straight away.
        assert landed(Launcher(client, lms)(role="learner"))
    finally:
        lms.close()


def test_dynamic_registration_with_a_bad_token_explains(app, client, runner):
    lms = TestPlatform()
    try:
        page = client.get(invite_path(runner), query_string={
            "openid_configuration": lms.issuer + "/.well-known/openid-configuration", "registration_token": "wrong"})
        assert page.status_code == 502
        assert "Could not read the platform" in page.get_data(as_text=True)
    finally:
        lms.close()


def test_register_without_parameters_explains(client, runner):
    page = client.get("/lti/register")
    assert page.status_code == 403 and "Dynamic Registration" in page.get_data(as_text=True)
    page = client.get(invite_path(runner))
    assert page.status_code == 400 and "Dynamic Registration" in page.get_data(as_text=True)


def test_config_has_everything_for_manual_registration(client):
    config = client.get("/lti/config").get_json()
    assert config["login_url"] == "https://tool.test/lti/login"
    assert config["redirect_uris"] == ["https://tool.test/lti/launch"]
    assert config["jwks_url"] == "https://tool.test/lti/jwks"
    assert config["target_link_uri"] == "https://tool.test/lti/launch"
    assert "email" in config["claims"] and any("score" in s for s in config["scopes"])
    assert client.get("/lti/setup").status_code == 200


def test_cli_platform_add_is_idempotent_and_listed(app, runner):
    args = ["platform", "add", "--issuer", "https://openedx.example", "--client-id", "abc",
            "--deployment-id", "1", "--auth-login-url", "https://openedx.example/api/lti_consumer/v1/launch/",
            "--auth-token-url", "https://openedx.example/api/lti_consumer/v1/token/x",
            "--jwks-url", "https://openedx.example/api/lti_consumer/v1/public_keysets/x", "--name", "Open edX"]
    for _ in range(2):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Platform.id))).scalar() == 1
        assert db.session.execute(db.select(db.func.count(Deployment.id))).scalar() == 1
    listing = runner.invoke(args=["platform", "list"])
    assert "https://openedx.example" in listing.output and "deployments=1" in listing.output
    bad = runner.invoke(args=[*args[:-6], "--jwks-url", "ftp://x", "--name", "x"])
    assert bad.exit_code != 0


def test_keys_rotate_keeps_previous_key_for_grace_period(app, runner, client):
    first = client.get("/lti/jwks").get_json()["keys"]
    assert len(first) == 1 and first[0]["alg"] == "RS256" and "d" not in first[0]
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    after = client.get("/lti/jwks").get_json()["keys"]
    assert len(after) == 2 and first[0]["kid"] in {k["kid"] for k in after}
    with app.app_context():
        for key in db.session.execute(db.select(ToolKey).where(ToolKey.retired_at.is_not(None))).scalars():
            key.retired_at = utcnow() - timedelta(days=30)
        db.session.commit()
    expired = client.get("/lti/jwks").get_json()["keys"]
    assert len(expired) == 1 and expired[0]["kid"] != first[0]["kid"]
