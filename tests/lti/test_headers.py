"""Cookies and headers for life inside an LMS iframe."""
from __future__ import annotations
from tests.lti_platform import landed


def cookie_headers(response, name_prefix):
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name_prefix)]


def test_session_and_pylti_cookies_are_iframe_ready(lti, client):
    login = lti.login()
    [state_cookie] = cookie_headers(login, "lti1p3-state-")
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in state_cookie
    response, _, _ = lti.launch()
    [session_cookie] = cookie_headers(response, "rml_session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
        assert attribute in session_cookie


def test_behind_a_tls_proxy_cookies_stay_secure(app, platform):
    client = app.test_client()  # plain http to the app, as behind a TLS-terminating proxy
    response = client.get("/lti/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tool.test"},
                          query_string={"iss": platform.issuer, "login_hint": "x", "client_id": platform.client_id,
                                        "target_link_uri": "https://tool.test/lti/launch", "lti1p3_new_window": "1"})
    [state_cookie] = cookie_headers(response, "lti1p3-state-")
    assert "Secure" in state_cookie and "SameSite=None" in state_cookie and "Partitioned" in state_cookie


def test_frame_ancestors_allow_the_launching_platform_and_no_x_frame_options(platform, client, lti):
    assert client.get("/lti/config").headers["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    response = lti(role="learner")  # answered with the landing page
    assert landed(response, "/learner/")
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {platform.issuer}" in csp
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_and_readyz(client):
    response = client.get("/healthz")  # liveness: the process answers (readiness is /readyz, tests/ops)
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "checks": ["database", "migrations"]}


def test_production_config_refuses_to_start_without_secrets(monkeypatch):
    import pytest

    from config.settings import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig.check()


def test_dev_platform_is_refused_in_production(monkeypatch):
    import pytest

    from config.settings import ProductionConfig

    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x")
    monkeypatch.setattr(ProductionConfig, "PUBLIC_BASE_URL", "https://tool.example")
    monkeypatch.setattr(ProductionConfig, "LTI_DEV_PLATFORM", True)
    with pytest.raises(RuntimeError, match="never be enabled in production"):
        ProductionConfig.check()


def test_dev_platform_routes_absent_unless_enabled(client):
    assert client.get("/dev/").status_code == 404
