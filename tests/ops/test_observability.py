"""Metrics an operator can scrape (Prometheus text, behind a bearer token) and JSON log lines with the request id."""
from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue, SimpleWorker

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage
from tests.conftest import csrf_token_in, https_client
from tests.lti.test_shared_storage import second_worker
from tests.lti_platform import landed, Launcher
from tests.ops.helpers import free_port

TOKEN = "scrape-token-123"


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def test_metrics_need_the_token(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 404  # no token configured: nothing there
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_launches_refusals_and_responses_are_counted(app, client, lti, metrics_on):
    before = scrape(client)
    assert landed(lti(role="learner"))
    response, token, params = lti.launch()
    replay = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
    assert replay.status_code == 400
    after = scrape(client)
    assert value(after, "rml_launches_total", role="learner") - value(before, "rml_launches_total", role="learner") == 2
    refused = value(after, "rml_launch_refusals_total", kind="replay") - value(before, "rml_launch_refusals_total",
                                                                               kind="replay")
    assert refused == 1
    assert value(after, "rml_http_responses_total", status="400") > value(before, "rml_http_responses_total",
                                                                          status="400")
    assert value(after, "rml_database_up") == 1
    assert value(after, "rml_request_duration_seconds_count", endpoint="lti.launch") >= 3


def test_server_errors_are_counted(app, platform):
    down = second_worker(app, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", METRICS_TOKEN=TOKEN)
    client = https_client(down)
    assert landed(Launcher(client, platform)(role="instructor", sub="teacher", custom={"cohort": "spring"}))
    with app.app_context():
        cohort_id = db.session.scalar(db.select(Cohort.id))
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    before = scrape(client)
    assert client.post(f"/facilitator/cohorts/{cohort_id}/roster/sync",
                       data={"csrf_token": csrf_token_in(page)}).status_code == 503
    after = scrape(client)
    assert value(after, "rml_http_responses_total", status="503") - value(before, "rml_http_responses_total",
                                                                          status="503") == 1
    assert value(after, "rml_redis_up") == 0


def test_failed_mail_and_matching_run_time(app, client, lti, metrics_on):
    from lti_tool.jobs import enqueue

    lti(role="instructor", sub="teacher", custom={"cohort": "spring"})
    with app.app_context():
        cohort = db.session.scalars(db.select(Cohort)).one()
        db.session.add(OutboxMessage(cohort_id=cohort.id, recipient="ana@example.com", subject="Invite",
                                     body="From: lab@example.com\nTo: ana@example.com\nSubject: Invite\n\nHello\n"))
        db.session.commit()
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens: the send really fails
        try:
            enqueue("lti_tool.services.outbox.deliver_outbox", cohort.id)
        finally:
            app.config["SMTP_URL"] = None
        before = scrape(client)
        from lti_tool.services.matchmaking import start_run

        start_run(cohort, None)  # an empty pool: a quick run, inline without Redis
    after = scrape(client)
    assert value(after, "rml_outbox_messages", status="failed") == 1
    done = ("rml_job_duration_seconds_count", dict(job="run_matching", outcome="done"))
    assert value(after, done[0], **done[1]) - value(before, done[0], **done[1]) == 1
    assert value(after, "rml_job_duration_seconds_sum", job="run_matching", outcome="done") > 0
    assert value(after, "rml_match_runs", status="done") == 1


def test_queue_depth_and_worker_job_times_come_from_redis(app, platform, own_redis):
    """Two instances report the same queue, and a job run by an RQ worker shows in both."""
    first, second = (second_worker(app, REDIS_URL=own_redis.url, METRICS_TOKEN=TOKEN) for _ in range(2))
    client = https_client(first)
    assert landed(Launcher(client, platform)(role="instructor", sub="teacher", custom={"cohort": "spring"}))
    with app.app_context():
        cohort_id = db.session.scalar(db.select(Cohort.id))
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert client.post(f"/facilitator/cohorts/{cohort_id}/roster/sync",
                       data={"csrf_token": csrf_token_in(page)}).status_code == 303
    for instance in (first, second):
        assert value(scrape(https_client(instance)), "rml_job_queue_jobs", queue="rml", state="queued") == 1
    queue = Queue("rml", connection=own_redis.client())
    synced = ("rml_job_duration_seconds_count", dict(job="sync_from_lms_job", outcome="done"))
    before = value(scrape(https_client(second)), synced[0], **synced[1])  # jobs run inline by earlier tests count too
    with first.app_context():
        SimpleWorker([queue], connection=own_redis.client()).work(burst=True)
    samples = scrape(https_client(second))
    assert value(samples, "rml_job_queue_jobs", queue="rml", state="queued") == 0
    assert value(samples, synced[0], **synced[1]) - before == 1
    assert own_redis.client().hget("rml:metrics:jobs", "sync_from_lms_job|done|count") == b"1"  # from the worker


@pytest.fixture
def root_logging():
    """Leave the process's logging as it was (configure_logging changes the root logger)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_log_lines_carry_the_request_id(app, platform, root_logging, capsys):
    json_app = second_worker(app, LOG_FORMAT="json")
    client = https_client(json_app)
    capsys.readouterr()
    refused = client.get("/lti/login", query_string={"iss": "https://unknown.example", "login_hint": "x",
                                                      "target_link_uri": "https://tool.test/lti/launch"},
                         headers={"X-Request-ID": "req-abcdef12"})
    assert refused.status_code == 403
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert lines, "no JSON log lines"
    refusal = next(e for e in lines if e["logger"] == "lti_tool.errors")
    assert refusal["level"] == "WARNING" and refusal["request_id"] == "req-abcdef12"
    assert "kind=unknown_platform" in refusal["message"]
    access = next(e for e in lines if e["logger"] == "lti_tool.access")
    assert access["request_id"] == "req-abcdef12" and access["status"] == 403
    assert access["endpoint"] == "lti.login" and access["duration_ms"] >= 0
    assert all(set(e) >= {"time", "level", "logger", "message"} for e in lines)
