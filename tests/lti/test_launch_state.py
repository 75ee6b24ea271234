"""What a login and a launch keep, and where: the OIDC nonce is derived from the login's state, launch data
is kept only for deep linking, and a worker remembers its platforms for a short time.

A login used to store its nonce in the shared storage (a database row or a Redis key) and a launch read it
back and stored the whole id_token (name, email, roles) for a day, though only a deep linking launch ever
reads it again. Now the nonce is an HMAC of the state under the app's secret key: the state is in the
browser's cookie, so the launch recomputes the nonce from it and nothing is stored at login. Each nonce is
then bound to one login: a token carrying another login's nonce is refused even in the same browser.
"""
from __future__ import annotations

import uuid

import pytest
import redis

from lti_tool.extensions import db
from lti_tool.models import CacheEntry
from tests.conftest import https_client
from tests.lti.test_refusals import assert_refused
from tests.lti.test_shared_storage import login_here_launch_there, second_worker
from tests.lti_platform import Launcher, landed


KEY_SET = "lti1p3-key-set-url-"  # the LMS's public keys, cached by the first launch: not the person's


def cache_keys(app) -> list[str]:
    with app.app_context():
        return sorted(k for k in db.session.scalars(db.select(CacheEntry.key)) if not k.startswith(KEY_SET))


@pytest.fixture(params=["database", "redis"])
def storage(request, app):
    """(the app answering the browsers, the Redis keys it wrote so far (a function), or None)."""
    if request.param == "database":
        return app, None
    url = request.getfixturevalue("redis_server").url
    prefix = f"st-{uuid.uuid4().hex[:8]}:"
    worker = second_worker(app, REDIS_URL=url, REDIS_KEY_PREFIX=prefix)
    return worker, lambda: sorted(k.decode() for k in redis.Redis.from_url(url).keys(prefix + "*")
                                  if not k.decode().startswith(prefix + KEY_SET))


def test_a_login_stores_nothing_and_a_resource_link_launch_keeps_no_launch_data(storage, platform):
    app, redis_keys = storage
    client = https_client(app)
    before = cache_keys(app)
    params = Launcher(client, platform).start(login_hint="quiet")
    assert cache_keys(app) == before and (redis_keys is None or redis_keys() == [])
    token = platform.id_token(params["nonce"], sub="quiet-learner", email="quiet@example.com")
    assert landed(client.post("/lti/launch", data={"id_token": token, "state": params["state"]}), "/learner/")
    # The person's name and email stay in the LMS's token and in their own rows, not in a second copy.
    assert cache_keys(app) == before and (redis_keys is None or redis_keys() == [])


def test_a_deep_linking_launch_keeps_its_launch_data_for_the_picker(storage, platform):
    app, redis_keys = storage
    client = https_client(app)
    before = cache_keys(app)
    response = Launcher(client, platform)(role="instructor", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 303
    stored = [k for k in cache_keys(app) if k not in before] if redis_keys is None else redis_keys()
    assert len(stored) == 1, stored  # the launch data, nothing else
    assert client.get("/lti/deep-link").status_code == 200


def test_a_nonce_is_good_only_with_the_state_of_its_own_login(app, platform):
    client = https_client(app)
    launcher = Launcher(client, platform)
    first, second = launcher.start(login_hint="a"), launcher.start(login_hint="b")  # both cookies in this browser
    assert first["nonce"] != second["nonce"]
    crossed = platform.id_token(first["nonce"])
    response = client.post("/lti/launch", data={"id_token": crossed, "state": second["state"]})
    assert_refused(response, 400, "state", client)
    matching = platform.id_token(second["nonce"])
    assert landed(client.post("/lti/launch", data={"id_token": matching, "state": second["state"]}))


def test_a_nonce_made_with_another_secret_key_is_refused(app, platform):
    """The nonce is keyed by the app's secret: knowing the state is not enough to make one."""
    from lti_tool.lti.launch import oidc_nonce

    client = https_client(app)
    params = Launcher(client, platform).start()
    with app.app_context():
        assert oidc_nonce(params["state"]) == params["nonce"]
    with second_worker(app, SECRET_KEY="another-secret-key").app_context():
        forged = oidc_nonce(params["state"])
    response = client.post("/lti/launch", data={"id_token": platform.id_token(forged), "state": params["state"]})
    assert_refused(response, 400, "state", client)


def test_login_on_one_worker_launch_on_another_needs_no_shared_state(app, platform):
    assert landed(login_here_launch_there(app, second_worker(app), platform))


# --- the worker's memo of platforms ------------------------------------------------------------------

def login_url_host(app, platform) -> str:
    """The LMS authorization URL a login on ``app`` redirects to (it comes from the platform row)."""
    response = Launcher(https_client(app), platform).login()
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"].split("?")[0]


def change_login_url_elsewhere(app, platform, url: str) -> None:
    """As another process would (``flask platform add`` on the command line): straight in the database."""
    from lti_tool.models import Platform

    with app.app_context():
        db.session.execute(db.update(Platform).where(Platform.issuer == platform.issuer)
                           .values(auth_login_url=url))
        db.session.commit()


def test_a_platform_changed_by_another_process_is_seen_once_the_memo_expires(app, platform, monkeypatch):
    from lti_tool.lti import tool_config

    clock = [1000.0]
    monkeypatch.setattr(tool_config, "_now", lambda: clock[0])
    worker = second_worker(app)
    assert login_url_host(worker, platform) == platform.issuer + "/auth"
    change_login_url_elsewhere(app, platform, platform.issuer + "/moved-auth")
    assert login_url_host(worker, platform) == platform.issuer + "/auth"  # still memoised
    clock[0] += worker.config["LTI_PLATFORM_MEMO_SECONDS"] + 1
    assert login_url_host(worker, platform) == platform.issuer + "/moved-auth"


def test_a_platform_saved_by_this_worker_is_seen_at_once(app, platform):
    from lti_tool.lti.registration import save_platform

    assert login_url_host(app, platform) == platform.issuer + "/auth"
    with app.app_context():
        save_platform(**{**platform.registration_args(), "auth_login_url": platform.issuer + "/new-auth"})
    assert login_url_host(app, platform) == platform.issuer + "/new-auth"


def test_without_a_memo_every_login_reads_the_platform(app, platform):
    worker = second_worker(app, LTI_PLATFORM_MEMO_SECONDS=0)
    assert login_url_host(worker, platform) == platform.issuer + "/auth"
    change_login_url_elsewhere(app, platform, platform.issuer + "/moved-auth")
    assert login_url_host(worker, platform) == platform.issuer + "/moved-auth"


def test_an_unknown_platform_is_not_memoised(app):
    """A login from an LMS registered a moment ago (by another process) works at once."""
    from tests.conftest import register
    from tests.lti_platform import TestPlatform

    lms = TestPlatform()
    try:
        worker = second_worker(app)
        response = Launcher(https_client(worker), lms).login()
        assert_refused(response, 403, "unknown_platform", https_client(worker))
        register(app, lms)  # another app instance: this worker's memo is not told
        assert landed(Launcher(https_client(worker), lms)())
    finally:
        lms.close()
