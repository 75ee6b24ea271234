"""Background jobs: RQ on Redis when REDIS_URL is set, otherwise run inline.

Job functions take ids (never ORM objects), push their own app context when run by a worker,
and are safe to run twice. Run a worker with `rq worker --with-scheduler --url "$REDIS_URL" "$RQ_QUEUE"` in the
app's environment (each job builds the app with `create_app()`); deploy/ has a systemd unit for it.

When Redis does not answer, ``enqueue`` raises ``QueueUnavailable`` (nothing was queued): the error
handlers answer it with a "try again in a minute" page (503), never a generic 500.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from werkzeug.utils import import_string

log = logging.getLogger(__name__)
QUEUE_NAME = "rml"  # the default of the RQ_QUEUE setting


class QueueUnavailable(RuntimeError):
    """The job queue (Redis) could not be reached, so the job was not queued."""


def _resolve(path: str):
    return import_string(path)


def _timed(path: str, *args: Any) -> Any:
    """Call the job and record how long it took (rml_job_duration_seconds, by job name and outcome)."""
    from .observability import record_job

    started, outcome = time.perf_counter(), "failed"
    try:
        result = _resolve(path)(*args)
        outcome = "done"
        return result
    finally:
        record_job(path.rpartition(".")[2], outcome, time.perf_counter() - started)


def run_job(path: str, *args: Any) -> Any:
    """Entry point for workers: call ``path(*args)`` inside an application context."""
    if has_app_context():
        return _timed(path, *args)
    from . import create_app

    with create_app().app_context():
        return _timed(path, *args)


def queue():
    """The app's RQ queue, made once per app (it holds the shared Redis connection pool)."""
    from rq import Queue

    from .lti.storage import redis_client

    config = current_app.config
    key = (config["RQ_QUEUE"], config["REDIS_URL"])
    made = current_app.extensions.setdefault("rml_queues", {})
    if key not in made:
        made[key] = Queue(key[0], connection=redis_client(config["REDIS_URL"], config["REDIS_TIMEOUT_SECONDS"]))
    return made[key]


def _queued() -> bool:
    """Jobs go through RQ (REDIS_URL set and not forced inline)."""
    return bool(current_app.config.get("REDIS_URL")) and not current_app.config.get("JOBS_INLINE")


def require_queue() -> None:
    """Before an action that writes and then queues a job: raise QueueUnavailable unless the queue
    answers, so that when its job could not be queued the action changes nothing (whole or nothing)."""
    if not _queued():
        return
    from redis import RedisError

    try:
        queue().connection.ping()
    except RedisError as e:
        log.error("queue check failed: Redis is unreachable (%s)", e)
        raise QueueUnavailable(f"The job queue is unreachable: {e}") from e


def enqueue(path: str, *args: Any, retries: int = 3) -> str | None:
    """Run ``path(*args)`` in the background (RQ, with retries and back-off) or inline without Redis.

    Returns the RQ job id, or None when the job ran inline. Raises QueueUnavailable when Redis is
    configured but does not answer.
    """
    if _queued():
        from redis import RedisError
        from rq import Retry

        try:
            # the request that queued the job, for its log lines
            extra = {"meta": {"request_id": g.request_id}} if has_request_context() and g.get("request_id") else {}
            job = queue().enqueue(run_job, path, *args, retry=Retry(max=retries, interval=[10, 60, 300][:retries]),
                                  **extra)
        except RedisError as e:
            log.error("job %s not queued: Redis is unreachable (%s)", path, e)
            raise QueueUnavailable(f"The job queue is unreachable: {e}") from e
        return job.id
    _timed(path, *args)
    return None
