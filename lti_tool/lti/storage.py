"""Shared storage for a deep linking launch's data, the platforms' key sets and LMS access tokens.

pylti1p3's own examples keep these in per-process memory, which breaks as soon as a second
worker answers the request. We keep them in Redis when ``REDIS_URL`` is set, otherwise in the
database, so every worker agrees. While Redis cannot be reached the database stands in for it
(``RedisWithDatabaseFallback``), so logins and launches keep working, and Redis is used again as
soon as it answers.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import redis
from flask import g, has_app_context
from flask_caching.backends.rediscache import RedisCache

from flask_caching.backends.base import BaseCache
from sqlalchemy import bindparam, func, select, true
from pylti1p3.contrib.flask import FlaskCacheDataStorage

from ..extensions import cache, db
from ..models import CacheEntry, utcnow
from ..upserts import insert_for, row_parameters, upsert_statement

log = logging.getLogger(__name__)


_GET_ENTRIES = select(CacheEntry.key, CacheEntry.value, CacheEntry.expires_at).where(
    CacheEntry.key.in_(bindparam("keys", expanding=True)))
# On PostgreSQL the cache's upsert (and a launch's used nonce) also says "SET LOCAL synchronous_commit TO
# OFF" for its transaction, in its RETURNING clause rather than as a statement (a round trip) of its own.
ASYNC_COMMIT = func.set_config("synchronous_commit", "off", true())
# The cache's upsert: INSERT … ON CONFLICT (key) DO UPDATE value and expiry, built once per dialect.
_ENTRY_KEYS, _ENTRY_VALUES = ("key",), ("value", "expires_at")


class DatabaseCache(BaseCache):
    """A Flask-Caching backend over the ``cache_entry`` table (JSON values)."""

    def __init__(self, default_timeout: int = 300):
        super().__init__(default_timeout=default_timeout)

    @classmethod
    def factory(cls, app, config, args, kwargs):  # Flask-Caching's backend hook
        return cls(default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300))

    def get(self, key: str) -> Any:
        return self.get_many(key)[0]

    def get_many(self, *keys: str) -> list[Any]:
        """The values of ``keys`` (None for a missing or expired one), in one SELECT … WHERE key IN.

        Core, not the ORM: a launch reads two of these and needs no identity-mapped object for either."""
        if not keys:
            return []
        now = utcnow()
        found = {row.key: row.value for row in db.session.execute(_GET_ENTRIES, {"keys": list(set(keys))})
                 if row.expires_at is None or row.expires_at > now}
        return [found.get(key) for key in keys]

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        self.set_many({key: value}, timeout)
        return True

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> list[Any]:
        """Store every key of ``mapping`` with one expiry, in one multi-row INSERT … ON CONFLICT DO UPDATE.

        Inside ``cache_commit_deferred()`` the rows join the current transaction and the caller commits;
        otherwise they are committed here."""
        if not mapping:
            return []
        timeout = self._normalize_timeout(timeout)
        expires = utcnow() + timedelta(seconds=timeout) if timeout else None
        dialect = db.session.get_bind().dialect.name
        # Short-lived launch state: losing the last few writes in a crash only fails launches in flight,
        # so on PostgreSQL the transaction skips the fsync wait that would otherwise dominate launch latency.
        returning = ASYNC_COMMIT if dialect == "postgresql" else False
        rows = [{"key": key, "value": value, "expires_at": expires} for key, value in mapping.items()]
        statement = upsert_statement(dialect, CacheEntry.__table__, _ENTRY_KEYS, _ENTRY_VALUES,
                                     returning=returning, rows=len(rows))
        result = db.session.execute(statement, row_parameters(rows))
        if returning is not False:
            result.all()
        if not (g.get("_cache_commit_deferred") if has_app_context() else False):
            db.session.commit()
        return list(mapping)

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        """Store only if absent (or expired), in one statement: two workers cannot both win."""
        timeout = self._normalize_timeout(timeout)
        now = utcnow()
        expires = now + timedelta(seconds=timeout) if timeout else None
        insert = insert_for(db.session.get_bind().dialect.name)
        statement = insert(CacheEntry).values(key=key, value=value, expires_at=expires).on_conflict_do_update(
            index_elements=[CacheEntry.key], set_={"value": value, "expires_at": expires},
            where=CacheEntry.expires_at.is_not(None) & (CacheEntry.expires_at <= now)).returning(CacheEntry.key)
        added = db.session.execute(statement).first() is not None  # a row back: inserted, or replaced an expired one
        db.session.commit()
        return added

    def delete(self, key: str) -> bool:
        deleted = db.session.execute(db.delete(CacheEntry).where(CacheEntry.key == key)).rowcount
        db.session.commit()
        return bool(deleted)

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def clear(self) -> bool:
        db.session.execute(db.delete(CacheEntry))
        db.session.commit()
        return True


def redis_client(url: str, timeout: float) -> redis.Redis:
    """A Redis client that fails fast: short socket timeouts and one immediate retry.

    The retry re-opens a pooled connection that died with a Redis restart, so recovery needs no
    restart of the app; a Redis that is really gone costs one refused connection, not seconds of
    back-off on every request.
    """
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                retry=Retry(NoBackoff(), 1), health_check_interval=30)


@contextmanager
def cache_commit_deferred():
    """Inside: database cache writes join the current transaction; the caller commits them, with its
    own writes, in one commit (a deep linking launch: its launch data with the used nonce and the synced rows). On
    PostgreSQL each of those writes also turns off synchronous_commit for the transaction."""
    g._cache_commit_deferred = True
    try:
        yield
    finally:
        g.pop("_cache_commit_deferred", None)


class RedisWithDatabaseFallback(BaseCache):
    """Redis, or the ``cache_entry`` table while Redis does not answer.

    After a Redis error the database is used for ``retry_seconds``; then Redis is tried again. A key
    written to the database during an outage is still found after Redis is back (a Redis miss looks
    in the database, which costs one primary-key lookup only on a miss), and deletes reach both.
    """

    def __init__(self, primary: RedisCache, fallback: DatabaseCache, retry_seconds: float = 5.0):
        super().__init__(default_timeout=fallback.default_timeout)
        self.primary, self.fallback, self.retry_seconds = primary, fallback, retry_seconds
        self._down_until = 0.0
        self.down_since: float | None = None

    @classmethod
    def factory(cls, app, config, args, kwargs):  # Flask-Caching's backend hook
        timeout = config.get("CACHE_DEFAULT_TIMEOUT", 300)
        client = redis_client(config["CACHE_REDIS_URL"], app.config["REDIS_TIMEOUT_SECONDS"])
        primary = RedisCache(host=client, key_prefix=config.get("CACHE_KEY_PREFIX"), default_timeout=timeout)
        return cls(primary, DatabaseCache(default_timeout=timeout), app.config["REDIS_RETRY_SECONDS"])

    @property
    def redis_up(self) -> bool:
        return self.down_since is None

    def _redis(self, operation: str, *args):
        """Run ``operation`` on Redis; raise _Unavailable (after noting the outage) when it cannot."""
        if time.monotonic() < self._down_until:
            raise _Unavailable
        try:
            result = getattr(self.primary, operation)(*args)
        except redis.RedisError as e:
            self._down_until = time.monotonic() + self.retry_seconds
            if self.down_since is None:
                self.down_since = time.time()
                log.warning("Redis is unreachable (%s); launch data goes to the database until it answers", e)
            raise _Unavailable from e
        if self.down_since is not None:
            log.warning("Redis answers again after %.0f s; launch data goes to Redis", time.time() - self.down_since)
            self.down_since = None
        return result

    def get(self, key: str) -> Any:
        try:
            value = self._redis("get", key)
        except _Unavailable:
            return self.fallback.get(key)
        return self.fallback.get(key) if value is None else value

    def get_many(self, *keys: str) -> list[Any]:
        """One MGET; the database only for the keys Redis does not have (all of them while it is down)."""
        try:
            values = list(self._redis("get_many", *keys))
        except _Unavailable:
            return self.fallback.get_many(*keys)
        misses = [key for key, value in zip(keys, values) if value is None]
        if misses:
            found = dict(zip(misses, self.fallback.get_many(*misses)))
            values = [found.get(key) if value is None else value for key, value in zip(keys, values)]
        return values

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        try:
            return self._redis("set", key, value, timeout)
        except _Unavailable:
            return self.fallback.set(key, value, timeout)

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> list[Any]:
        """One pipeline of SETs (no MULTI); the database, in one statement, while Redis is down."""
        try:
            return self._redis("set_many", mapping, timeout)
        except _Unavailable:
            return self.fallback.set_many(mapping, timeout)

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        try:
            return self._redis("add", key, value, timeout)  # SET NX: atomic in Redis
        except _Unavailable:
            return self.fallback.add(key, value, timeout)

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def delete(self, key: str) -> bool:
        try:
            deleted = bool(self._redis("delete", key))
        except _Unavailable:
            deleted = False
        return self.fallback.delete(key) or deleted

    def clear(self) -> bool:
        try:
            self._redis("clear")
        except _Unavailable:
            pass
        return self.fallback.clear()


class _Unavailable(Exception):
    """Redis did not answer (internal to RedisWithDatabaseFallback)."""


def purge_expired() -> int:
    """Delete expired cache rows (the Redis backend expires keys by itself)."""
    count = db.session.execute(db.delete(CacheEntry).where(CacheEntry.expires_at < utcnow())).rowcount
    db.session.commit()
    return count


def register_commands(app) -> None:
    """``flask --app lti_tool storage purge``: run it daily (deploy/systemd/mentoring-lab-maintenance.timer)."""
    import click
    from flask.cli import AppGroup

    storage_cli = AppGroup("storage", help="Shared launch storage in the database.")

    @storage_cli.command("purge")
    def purge():
        """Delete expired launch state, cached tokens and used nonces (Redis expires its own keys)."""
        from .launch import purge_used_nonces

        click.echo(f"{purge_expired()} expired cache entries and {purge_used_nonces()} expired nonces deleted.")

    app.cli.add_command(storage_cli)


def launch_data_storage() -> FlaskCacheDataStorage:
    """pylti1p3's storage for what a launch keeps (a deep linking launch's data, the platforms' key sets)."""
    return FlaskCacheDataStorage(cache)
