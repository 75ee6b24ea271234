"""Shared storage for pylti1p3's state, nonces, launch data and platform key sets.

pylti1p3's own examples keep these in per-process memory, which breaks as soon as a second
worker answers the launch. We keep them in Redis when ``REDIS_URL`` is set, otherwise in the
database, so every worker agrees.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_caching.backends.base import BaseCache
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from pylti1p3.contrib.flask import FlaskCacheDataStorage

from ..extensions import cache, db
from ..models import CacheEntry, utcnow


class DatabaseCache(BaseCache):
    """A Flask-Caching backend over the ``cache_entry`` table (JSON values)."""

    def __init__(self, default_timeout: int = 300):
        super().__init__(default_timeout=default_timeout)

    @classmethod
    def factory(cls, app, config, args, kwargs):  # Flask-Caching's backend hook
        return cls(default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300))

    def get(self, key: str) -> Any:
        entry = db.session.get(CacheEntry, key)
        if entry is None:
            return None
        if entry.expires_at is not None and entry.expires_at <= utcnow():
            return None
        return entry.value

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        timeout = self._normalize_timeout(timeout)
        expires = utcnow() + timedelta(seconds=timeout) if timeout else None
        if db.session.get_bind().dialect.name == "postgresql":
            # Short-lived launch state: losing the last few writes in a crash only fails launches in
            # flight, so skip the fsync wait that would otherwise dominate launch latency.
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(CacheEntry).values(key=key, value=value, expires_at=expires)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=[CacheEntry.key], set_={"value": value, "expires_at": expires}))
        db.session.commit()
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        if self.get(key) is not None:
            return False
        return self.set(key, value, timeout)

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


def purge_expired() -> int:
    """Delete expired cache rows (the Redis backend expires keys by itself)."""
    count = db.session.execute(db.delete(CacheEntry).where(CacheEntry.expires_at < utcnow())).rowcount
    db.session.commit()
    return count


def launch_data_storage() -> FlaskCacheDataStorage:
    return FlaskCacheDataStorage(cache)
