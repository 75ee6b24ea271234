"""Launch state lives in shared storage, so separate workers agree (database or Redis)."""
from __future__ import annotations


import pytest
import redis as redis_lib

from lti_tool.extensions import db
from tests.conftest import HttpsClient, https_client
from tests.lti_platform import landed, Launcher



def second_worker(app, **overrides):
    """Another app instance on the same database, as a second gunicorn worker would be."""
    from lti_tool import create_app

    other = create_app("config.settings.TestingConfig",
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], **overrides)
    other.test_client_class = HttpsClient
    return other


def login_here_launch_there(first_app, second_app, platform):
    """OIDC login answered by one worker, the launch by another; cookies travel with the browser."""
    login_client = https_client(first_app)
    params = Launcher(login_client, platform).start()
    launch_client = second_app.test_client()
    for cookie in login_client._cookies.values():
        launch_client.set_cookie(cookie.key, cookie.value, domain="tool.test")
    token = platform.id_token(params["nonce"])
    return launch_client.post("/lti/launch", data={"id_token": token, "state": params["state"]})


def picker_here_after_launch_there(first_app, second_app, platform):
    """An instructor's deep linking launch answered by one worker, the picker page (which reads the
    launch's stored data) by another; cookies travel with the browser. The picker page's response."""
    launch_client = https_client(first_app)
    response = Launcher(launch_client, platform)(role="instructor", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    picker_client = https_client(second_app)
    for cookie in launch_client._cookies.values():
        picker_client.set_cookie(cookie.key, cookie.value, domain="tool.test")
    return picker_client.get("/lti/deep-link")


def test_database_storage_is_shared_between_workers(app, platform):
    other = second_worker(app)
    assert landed(login_here_launch_there(app, other, platform))
    assert picker_here_after_launch_there(app, other, platform).status_code == 200


@pytest.fixture
def redis_url(redis_server):
    yield redis_server.url
    redis_server.client().flushdb()


def test_redis_storage_is_shared_between_workers(app, platform, redis_url):
    first = second_worker(app, REDIS_URL=redis_url)
    second = second_worker(app, REDIS_URL=redis_url)
    assert first.config["CACHE_TYPE"] == "lti_tool.lti.storage.RedisWithDatabaseFallback"
    assert landed(login_here_launch_there(first, second, platform))
    assert picker_here_after_launch_there(first, second, platform).status_code == 200
    keys = [k for k in redis_lib.Redis.from_url(redis_url).keys("rml:*") if b"-launch-" in k]
    assert keys, "the deep linking launch's data should be in Redis"


def test_database_cache_add_is_insert_if_absent(app):
    """add() stores only when the key is absent or expired, in one statement (no read-then-write race)."""
    import threading
    from datetime import timedelta

    from lti_tool.lti.storage import DatabaseCache
    from lti_tool.models import CacheEntry, utcnow

    cache = DatabaseCache()
    with app.app_context():
        assert cache.add("nonce-1", {"v": 1}, 60) is True
        assert cache.add("nonce-1", {"v": 2}, 60) is False
        assert cache.get("nonce-1") == {"v": 1}
        entry = db.session.get(CacheEntry, "nonce-1")
        entry.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert cache.add("nonce-1", {"v": 3}, 60) is True and cache.get("nonce-1") == {"v": 3}
    wins, barrier = [], threading.Barrier(4)

    def contender(n):
        with app.app_context():
            barrier.wait()
            wins.append(DatabaseCache().add("race", n, 60))
            db.session.remove()

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False, False, False, True]
