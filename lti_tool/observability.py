"""Operations: JSON log lines carrying the request id, and Prometheus metrics for an operator.

* ``LOG_FORMAT=json`` turns every log record (the app's, the access line per request, background
  jobs') into one JSON object per line with the request id, or the job id and the request that queued it.
* ``GET /metrics`` answers in the Prometheus text format to ``Authorization: Bearer $METRICS_TOKEN``
  (404 when no token is configured). Counters live in each process; with several gunicorn workers set
  ``PROMETHEUS_MULTIPROC_DIR`` (see docs/deploy.md) so one scrape adds them all up. Figures that are
  shared anyway — the job queue, failed mail, matching runs, job durations recorded by RQ workers — are
  read from Redis and the database at scrape time, so every instance reports the same.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone

from flask import Blueprint, Flask, Response, abort, current_app, g, has_app_context, has_request_context, request, \
    session
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest, \
    multiprocess
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

bp = Blueprint("observability", __name__)
log = logging.getLogger(__name__)
access_log = logging.getLogger("lti_tool.access")

disable_created_metrics()  # no *_created series: they double what is scraped and nobody alerts on them
METRICS = CollectorRegistry(auto_describe=True)
LAUNCHES = Counter("rml_launches", "Launches accepted, by the landing role.", ["role"], registry=METRICS)
REFUSALS = Counter("rml_launch_refusals", "Logins and launches refused, by kind (see errors.ADVICE).", ["kind"],
                   registry=METRICS)
RESPONSES = Counter("rml_http_responses", "HTTP responses, by status code (5xx: server errors).", ["status"],
                    registry=METRICS)
REQUEST_SECONDS = Histogram("rml_request_duration_seconds", "Time to answer a request, by endpoint.", ["endpoint"],
                            registry=METRICS, buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LMS_TOKEN_REQUESTS = Counter("rml_lms_token_requests", "OAuth access tokens requested from an LMS, by outcome.",
                             ["outcome"], registry=METRICS)
LMS_SERVICE_RETRIES = Counter("rml_lms_service_retries",
                              "LMS service calls (roster, scores) retried, by the answer that caused it.", ["reason"],
                              registry=METRICS)

JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_local_jobs: dict[tuple[str, str], dict[str, float]] = {}
_local_jobs_lock = threading.Lock()


# --- background job durations ------------------------------------------------------------------
def record_job(name: str, outcome: str, seconds: float) -> None:
    """Add a job's run time to the shared statistics (in Redis under an RQ worker, else in this process).

    RQ runs each job in a short-lived child process, so a per-process metric would vanish with it:
    the worker adds to a Redis hash that every instance reads at scrape time instead.
    """
    fields = {"count": 1, "sum": seconds, **{f"le:{b}": 1 for b in JOB_BUCKETS if seconds <= b}}
    connection = _worker_connection()
    if connection is not None:
        try:
            pipe = connection.pipeline(transaction=False)
            for field, amount in fields.items():
                pipe.hincrbyfloat(_jobs_key(), f"{name}|{outcome}|{field}", amount)
            pipe.execute()
            return
        except Exception as e:  # noqa: BLE001 - a statistic must never fail the job
            log.warning("job duration not recorded in Redis: %s", e)
    with _local_jobs_lock:
        stats = _local_jobs.setdefault((name, outcome), {})
        for field, amount in fields.items():
            stats[field] = stats.get(field, 0) + amount


def _worker_connection():
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return None
    job = get_current_job()
    return job.connection if job is not None else None


def _jobs_key() -> str:
    prefix = current_app.config["REDIS_KEY_PREFIX"] if has_app_context() else "rml:"
    return f"{prefix}metrics:jobs"


def _job_stats(redis_connection) -> dict[tuple[str, str], dict[str, float]]:
    with _local_jobs_lock:
        merged = {key: dict(stats) for key, stats in _local_jobs.items()}
    if redis_connection is not None:
        for raw_field, raw_value in redis_connection.hgetall(_jobs_key()).items():
            name, outcome, field = raw_field.decode().split("|", 2)
            stats = merged.setdefault((name, outcome), {})
            stats[field] = stats.get(field, 0) + float(raw_value)
    return merged


# --- what is read at scrape time -------------------------------------------------------------------
class SharedStateCollector:
    """Gauges read from the database and Redis when scraped (the same on every instance)."""

    def collect(self):
        from . import health
        from .extensions import db
        from .models import GradeSync, MatchRun, OutboxMessage

        database_problem = health.database_problem()
        yield GaugeMetricFamily("rml_database_up", "1 when the database answers.", value=0 if database_problem else 1)
        if not database_problem:
            for model, name, text in (
                (OutboxMessage, "rml_outbox_messages", "Mail in the outbox by status (failed: retried by itself; attention: out of tries or interrupted)."),
                (MatchRun, "rml_match_runs", "Matching runs by status."),
                (GradeSync, "rml_grade_syncs", "Scores for the LMS gradebook by status."),
            ):
                family = GaugeMetricFamily(name, text, labels=["status"])
                rows = db.session.execute(db.select(model.status, db.func.count()).group_by(model.status))
                for status, count in rows:
                    family.add_metric([status or "none"], count)
                yield family
            db.session.rollback()  # end the read transaction the scrape opened
        redis_connection = None
        if current_app.config.get("REDIS_URL"):
            redis_problem = health.redis_problem()
            yield GaugeMetricFamily("rml_redis_up", "1 when Redis answers.", value=0 if redis_problem else 1)
            if not redis_problem:
                from .jobs import queue

                job_queue = queue()
                redis_connection = job_queue.connection
                family = GaugeMetricFamily("rml_job_queue_jobs", "Background jobs by state.", labels=["queue", "state"])
                family.add_metric([job_queue.name, "queued"], job_queue.count)
                for state, registry in (("started", job_queue.started_job_registry),
                                        ("scheduled", job_queue.scheduled_job_registry),
                                        ("deferred", job_queue.deferred_job_registry),
                                        ("failed", job_queue.failed_job_registry)):
                    family.add_metric([job_queue.name, state], registry.count)
                yield family
        yield self._job_durations(redis_connection)

    @staticmethod
    def _job_durations(redis_connection) -> HistogramMetricFamily:
        family = HistogramMetricFamily("rml_job_duration_seconds",
                                       "Background job run time (run_matching: a matching run), by job and outcome.",
                                       labels=["job", "outcome"])
        for (name, outcome), stats in sorted(_job_stats(redis_connection).items()):
            buckets = [(str(float(b)), stats.get(f"le:{b}", 0)) for b in JOB_BUCKETS]
            family.add_metric([name, outcome], buckets + [("+Inf", stats.get("count", 0))],
                              sum_value=stats.get("sum", 0))
        return family


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = METRICS
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedStateCollector())
    return generate_latest(registry) + generate_latest(shared)


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("A bearer token is needed.\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        mimetype="text/plain")
    return Response(exposition(), mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


# --- logs ------------------------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (or job id), extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_correlation())
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _correlation() -> dict[str, str]:
    if has_request_context() and g.get("request_id"):
        return {"request_id": g.request_id}
    try:
        from rq import get_current_job
        job = get_current_job()
    except Exception:  # noqa: BLE001 - outside a worker there is no job
        job = None
    if job is None:
        return {}
    out = {"job_id": job.id}
    if job.meta.get("request_id"):
        out["request_id"] = job.meta["request_id"]
    return out


def configure_logging(app: Flask) -> None:
    """With LOG_FORMAT=json, the root logger writes JSON lines to stderr (once per process)."""
    if app.config.get("LOG_FORMAT", "text") != "json":
        return
    from flask.logging import default_handler

    root = logging.getLogger()
    if not any(getattr(h, "rml_json", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        handler.rml_json = True
        root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    app.logger.removeHandler(default_handler)  # or Flask's own handler would print every record a second time


# --- per request -------------------------------------------------------------------------------------
PROBES = {"health.healthz", "health.readyz", "observability.metrics"}


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.register_blueprint(bp)

    @app.before_request
    def start_timer() -> None:
        g.setdefault("request_started", time.perf_counter())  # a launch's landing page runs nested

    @app.after_request
    def count_and_log(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
        endpoint = request.endpoint or "unmatched"
        RESPONSES.labels(status=str(response.status_code)).inc()
        REQUEST_SECONDS.labels(endpoint=endpoint).observe(seconds)
        if endpoint == "lti.launch" and g.get("launched"):
            roles = session.get("roles") or []
            LAUNCHES.labels(role=roles[0] if roles else "none").inc()
        access_log.log(logging.DEBUG if endpoint in PROBES else logging.INFO,
                       "%s %s %s", request.method, request.url_rule.rule if request.url_rule else "unmatched",
                       response.status_code,
                       extra={"fields": {"method": request.method, "endpoint": endpoint, "status": response.status_code,
                                         "duration_ms": round(seconds * 1000, 1)}})
        return response
