"""Every refusal is a 4xx page in plain words, with a request id, and leaves no session behind."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.lti_platform import landed, new_rsa_pem


def assert_refused(response, status, kind, client):
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    body = response.get_data(as_text=True)
    assert "What you can do" in body and "For your LMS administrator" in body
    assert f"({kind})" in body
    assert response.headers["X-Request-ID"] in body
    assert "Traceback" not in body
    with client.session_transaction() as session:
        assert "user_id" not in session
    assert client.get("/learner/").status_code == 401


def test_unknown_issuer_at_login(lti, client):
    response = lti.login(issuer="https://unknown-lms.example")
    assert_refused(response, 403, "unknown_platform", client)


def test_unknown_client_id_at_launch(lti, client):
    response, _, _ = lti.launch({"aud": "someone-else"})
    assert_refused(response, 403, "unknown_platform", client)


@pytest.mark.parametrize("aud", [[], [123], ["a", "b"]])
def test_malformed_audience_is_a_4xx_not_a_500(lti, client, aud):
    response, _, _ = lti.launch({"aud": aud})
    assert_refused(response, 400, "bad_token", client)


def test_unregistered_deployment(lti, client):
    response, _, _ = lti.launch({"deployment_id": "not-registered"})
    assert_refused(response, 403, "unknown_deployment", client)


def test_bad_signature(lti, client):
    response, _, _ = lti.launch({"key_pem": new_rsa_pem(), "kid": lti.platform.kid})
    assert_refused(response, 400, "bad_token", client)


def test_unknown_key_id(lti, client):
    response, _, _ = lti.launch({"key_pem": new_rsa_pem()})
    assert_refused(response, 400, "bad_token", client)


def test_expired_token(lti, client):
    response, _, _ = lti.launch({"iat_offset": -900, "exp_offset": -600})
    assert_refused(response, 400, "expired", client)


def test_token_from_far_future_is_refused(lti, client):
    response, _, _ = lti.launch({"iat_offset": 600})
    assert_refused(response, 400, "bad_token", client)


def test_replayed_launch(lti, client):
    params = lti.start()
    token = lti.platform.id_token(params["nonce"])
    first = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert landed(first)
    client.cookie_jar.clear() if hasattr(client, "cookie_jar") else None
    second = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert_refused(second, 400, "replay", client)


def test_missing_state(lti, client):
    params = lti.start()
    token = lti.platform.id_token(params["nonce"])
    response = client.post("/lti/launch", data={"id_token": token})
    assert_refused(response, 400, "state", client)


def test_blocked_cookies(lti, app):
    """The browser dropped the tool's cookies between login and launch (third-party cookies blocked)."""
    from tests.conftest import https_client

    params = lti.start()
    token = lti.platform.id_token(params["nonce"])
    cookieless = https_client(app)
    response = cookieless.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert_refused(response, 400, "state", cookieless)


def test_nonce_not_issued_by_tool(lti, client):
    params = lti.start()
    token = lti.platform.id_token("made-up-nonce")
    response = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert_refused(response, 400, "state", client)


def test_garbage_token(lti, client):
    params = lti.start()
    response = client.post("/lti/launch", data={"id_token": "not.a.jwt", "state": params["state"]})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_login_without_login_hint(lti, client):
    response = client.get("/lti/login", query_string={"iss": lti.platform.issuer})
    assert_refused(response, 400, "login", client)


def test_direct_visit_without_launch_is_401(client):
    for path in ("/learner/", "/facilitator/", "/insights/", "/lti/profile", "/lti/deep-link"):
        response = client.get(path)
        assert response.status_code == 401
        assert "open the lab from there" in response.get_data(as_text=True)


@pytest.mark.parametrize("role, forbidden", [
    ("learner", ["/facilitator/", "/insights/", "/lti/deep-link"]),
    ("instructor", ["/insights/", "/learner/"]),
    ("lnd", ["/facilitator/", "/learner/"]),
])
def test_roles_cannot_reach_other_areas(lti, client, role, forbidden):
    lti(role=role)
    for path in forbidden:
        assert client.get(path).status_code == 403, path


def test_the_same_launch_posted_twice_at_once_lands_once(lti, app):
    """A double submit of one id_token: the used nonce is written by the launch's first statement, so the
    second post waits for the first launch's commit on the unique index, then is refused as a replay
    (never a 500, never a second session)."""
    import threading

    from tests.conftest import https_client

    params = lti.start()
    token = lti.platform.id_token(params["nonce"])
    clients = [lti.client, https_client(app)]
    for cookie in list(lti.client._cookies.values()):  # the second tab of the same browser
        clients[1].set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    barrier, answers = threading.Barrier(2), [None, None]

    def post(index):
        barrier.wait()
        answers[index] = clients[index].post("/lti/launch", data={"id_token": token, "state": params["state"]})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 400], statuses
    refused = next(i for i, answer in enumerate(answers) if answer.status_code == 400)
    assert_refused(answers[refused], 400, "replay", clients[refused])
    assert landed(answers[1 - refused])


def test_only_the_used_nonce_key_makes_a_replay(app):
    """A launch's first statement writes more than the nonce on PostgreSQL (the person, their membership):
    an integrity error of anything else is a fault to report, not a "this launch was already used" page."""
    from datetime import datetime

    from lti_tool.extensions import db
    from lti_tool.lti.launch import LaunchRefused
    from lti_tool.lti.sync import _INSERT_NONCE, _refusing_replays
    from lti_tool.models import Platform

    nonce = {"issuer": "https://lms.example", "nonce": "n-1", "expires_at": datetime(2030, 1, 1)}
    with app.app_context():
        db.session.execute(_INSERT_NONCE, nonce)
        db.session.commit()
        with pytest.raises(LaunchRefused) as refused:
            with _refusing_replays():
                db.session.execute(_INSERT_NONCE, nonce)
        assert refused.value.kind == "replay"
        db.session.add_all([Platform(issuer="https://lms.example", client_id="c", auth_login_url="https://x",
                                     auth_token_url="https://x", jwks_url="https://x") for _ in range(2)])
        with pytest.raises(IntegrityError):
            with _refusing_replays():
                db.session.flush()  # the platform's (issuer, client_id) key, not the nonce's
        db.session.rollback()
