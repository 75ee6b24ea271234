"""The shared cache's batched reads and writes (get_many, set_many).

On the database: one SELECT … WHERE key IN for any number of keys, one multi-row upsert for any number
of writes (on PostgreSQL turning off synchronous_commit in the same statement). With Redis: one MGET, the
database only for what Redis misses; one pipeline of SETs. While Redis is down (a closed port, or a
redis-server of the test's own, stopped) both go to the database, and what was written there is still
found once Redis answers again.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lti_tool.extensions import cache, db
from lti_tool.models import CacheEntry, utcnow
from tests.lti.test_shared_storage import second_worker
from tests.lti_platform import Launcher, landed
from tests.conftest import https_client
from tests.ops.helpers import free_port
from tests.sql_round_trips import SqlRoundTrips


def redis_app(app, url):
    return second_worker(app, REDIS_URL=url, REDIS_RETRY_SECONDS=0, REDIS_KEY_PREFIX=f"bt-{uuid.uuid4().hex[:8]}:")


def stored_keys(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(CacheEntry.key)))


def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


# --- the database ---------------------------------------------------------------------------------------

def test_set_many_is_one_statement_and_get_many_one_query(app):
    with app.app_context():
        with SqlRoundTrips(db.engine) as sql:
            assert sorted(cache.set_many({"a": 1, "b": {"x": [2]}, "c": "three"}, timeout=60)) == ["a", "b", "c"]
        assert sql.statements == 1 and sql.log.count("COMMIT") == 1, sql.report()
        assert not [s for s in sql.statement_list if s.startswith("SET")], sql.report()
        with SqlRoundTrips(db.engine) as sql:
            assert cache.get_many("c", "missing", "a", "b", "a") == ["three", None, 1, {"x": [2]}, 1]
        assert sql.statements == 1, sql.report()
        assert cache.get("b") == {"x": [2]} and cache.get("missing") is None


def test_set_many_overwrites_and_renews_expiry(app):
    with app.app_context():
        cache.set_many({"a": 1, "b": 2}, timeout=60)
        db.session.execute(db.update(CacheEntry).where(CacheEntry.key == "a")
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert cache.get_many("a", "b") == [None, 2]  # expired: as good as missing
        cache.set_many({"a": "new", "b": "newer"}, timeout=60)
        assert cache.get_many("a", "b") == ["new", "newer"]
        assert cache.get_many() == [] and cache.set_many({}) == []
    assert stored_keys(app) == ["a", "b"]


def test_deferred_set_many_joins_the_callers_transaction(app):
    from sqlalchemy import text

    from lti_tool.lti.storage import cache_commit_deferred

    with app.test_request_context():
        with cache_commit_deferred():
            cache.set_many({"kept": 1, "also": 2}, timeout=60)
            if is_postgres(app):  # said in the upsert, for this transaction only
                assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "off"
        db.session.rollback()  # the caller's transaction fails: nothing was committed
        assert cache.get_many("kept", "also") == [None, None]
        with cache_commit_deferred():
            cache.set("kept", 1, timeout=60)
        db.session.commit()
        if is_postgres(app):
            assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    assert stored_keys(app) == ["kept"]


# --- Redis in front of the database -------------------------------------------------------------------

@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


def test_redis_get_many_is_one_mget_and_asks_the_database_only_for_misses(app, redis_url):
    live = redis_app(app, redis_url)
    with live.app_context():
        cache.set_many({"r1": 1, "r2": 2}, timeout=60)
        assert stored_keys(app) == []  # in Redis, not the database
        with SqlRoundTrips(db.engine) as sql:
            assert cache.get_many("r1", "r2") == [1, 2]
        assert sql.statements == 0, sql.report()
        db.session.add(CacheEntry(key="only-in-db", value="db", expires_at=utcnow() + timedelta(minutes=1)))
        db.session.commit()
        with SqlRoundTrips(db.engine) as sql:
            assert cache.get_many("r1", "only-in-db", "nowhere", "r2") == [1, "db", None, 2]
        assert sql.statements == 1, sql.report()
        assert cache.cache.redis_up


def test_closed_redis_port_get_many_and_set_many_use_the_database(app):
    down = redis_app(app, f"redis://127.0.0.1:{free_port()}/0")
    with down.app_context():
        with SqlRoundTrips(db.engine) as sql:
            assert sorted(cache.set_many({"d1": 1, "d2": 2}, timeout=60)) == ["d1", "d2"]
            assert cache.get_many("d1", "d2", "d3") == [1, 2, None]
        assert sql.statements == 2, sql.report()  # one write, one read
        assert not cache.cache.redis_up
    assert stored_keys(app) == ["d1", "d2"]


def test_a_key_written_during_an_outage_is_found_after_redis_is_back(app, own_redis):
    up = redis_app(app, own_redis.url)
    with up.app_context():
        cache.set_many({"before": 1}, timeout=60)
        own_redis.stop()
        cache.set_many({"during": 2, "also-during": 3}, timeout=60)
        assert not cache.cache.redis_up
        assert stored_keys(app) == ["also-during", "during"]
        own_redis.start()  # the same port, empty
        assert cache.get_many("during", "before", "also-during") == [2, None, 3]
        assert cache.cache.redis_up
        cache.set_many({"after": 4}, timeout=60)
        assert cache.get_many("after") == [4]
    assert stored_keys(app) == ["also-during", "during"]  # after recovery, writes go to Redis again


# --- a launch ----------------------------------------------------------------------------------------

def test_a_launch_with_a_forged_state_stores_nothing(app, platform):
    """A wrong state: the launch is refused and nothing is stored; the right one then lands."""
    client = https_client(app)
    params = Launcher(client, platform).start()
    before = stored_keys(app)
    token = platform.id_token(params["nonce"])
    response = client.post("/lti/launch", data={"id_token": token, "state": "state-forged"})
    assert not landed(response)
    assert stored_keys(app) == before
    response = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert landed(response), response.get_data(as_text=True)[:300]
