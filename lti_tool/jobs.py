"""Background jobs: RQ on Redis when REDIS_URL is set, otherwise run inline.

Job functions take ids (never ORM objects), push their own app context when run by a worker,
and are safe to run twice. Run a worker with `rq worker rml --url "$REDIS_URL"` in the app's environment
(each job builds the app with `create_app()`).
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import current_app, has_app_context

log = logging.getLogger(__name__)
QUEUE_NAME = "rml"


def _resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_job(path: str, *args: Any) -> Any:
    """Entry point for workers: call ``path(*args)`` inside an application context."""
    if has_app_context():
        return _resolve(path)(*args)
    from . import create_app

    with create_app().app_context():
        return _resolve(path)(*args)


def queue():
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(current_app.config["REDIS_URL"]))


def enqueue(path: str, *args: Any, retries: int = 3) -> str | None:
    """Run ``path(*args)`` in the background (RQ, with retries and back-off) or inline without Redis.

    Returns the RQ job id, or None when the job ran inline.
    """
    if current_app.config.get("REDIS_URL") and not current_app.config.get("JOBS_INLINE"):
        from rq import Retry

        job = queue().enqueue(run_job, path, *args, retry=Retry(max=retries, interval=[10, 60, 300][:retries]))
        return job.id
    _resolve(path)(*args)
    return None
