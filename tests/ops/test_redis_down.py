"""Redis down: logins, launches and pages keep working from the database; queueing a job answers a clear
503 page; Redis is used again, without a restart, as soon as it answers. Faults are real: a closed port,
or a redis-server this test starts, stops and restarts (never the shared one)."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import CacheEntry, Cohort
from tests.conftest import csrf_token_in, https_client
from tests.lti.test_shared_storage import login_here_launch_there, picker_here_after_launch_there, second_worker
from tests.lti_platform import landed, Launcher
from tests.ops.helpers import free_port

UNAVAILABLE = "The lab is unavailable for a minute"


def redis_app(app, url, **overrides):
    return second_worker(app, REDIS_URL=url, REDIS_RETRY_SECONDS=0, **overrides)


def cache_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(CacheEntry))


def test_closed_redis_port_logins_launches_and_pages_work_from_the_database(app, platform):
    down = redis_app(app, f"redis://127.0.0.1:{free_port()}/0")
    client = https_client(down)
    response = Launcher(client, platform)(role="learner", custom={"cohort": "spring"})
    assert landed(response, "/learner/"), response.get_data(as_text=True)[:500]
    page = client.get("/learner/")
    assert page.status_code == 200
    # a login on one instance and the launch on another, both without Redis
    other = redis_app(app, down.config["REDIS_URL"])
    assert landed(login_here_launch_there(down, other, platform))
    # a deep linking launch's data, read by the picker on the other instance, went to the database instead
    assert picker_here_after_launch_there(down, other, platform).status_code == 200
    assert cache_rows(app) > 0


def facilitator_with_redis_down(app, platform):
    """A facilitator on an instance whose Redis is a closed port: (client, cohort id, the cohort page)."""
    down = redis_app(app, f"redis://127.0.0.1:{free_port()}/0")
    client = https_client(down)
    assert landed(Launcher(client, platform)(role="instructor", sub="teacher", custom={"cohort": "spring"}))
    with app.app_context():
        cohort_id = db.session.scalar(db.select(Cohort.id))
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert page.status_code == 200
    return client, cohort_id, page


def test_closed_redis_port_queueing_a_job_answers_a_clear_503(app, platform):
    client, cohort_id, page = facilitator_with_redis_down(app, platform)
    response = client.post(f"/facilitator/cohorts/{cohort_id}/roster/sync", data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    body = response.get_data(as_text=True)
    assert UNAVAILABLE in body and "try again in a minute" in body and response.headers["X-Request-ID"] in body
    assert client.get(f"/facilitator/cohorts/{cohort_id}").status_code == 200  # the pages still work


def test_readyz_names_redis_when_it_is_down_and_healthz_stays_ok(app):
    down = redis_app(app, f"redis://127.0.0.1:{free_port()}/0")
    client = https_client(down)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["failing"] == ["redis"] and "unreachable" in ready.get_json()["problems"]["redis"]
    assert client.get("/healthz").status_code == 200


def test_an_outage_and_recovery_without_restart(app, platform, own_redis):
    """What a launch keeps in the shared storage (a deep linking launch's data, read by the picker page on
    whichever instance answers) goes to Redis, to the database while Redis is down, and to Redis again
    once it is back; logins and launches work throughout."""
    up = redis_app(app, own_redis.url)
    other = redis_app(app, own_redis.url)
    redis = own_redis.client()
    assert landed(login_here_launch_there(up, other, platform))
    assert picker_here_after_launch_there(up, other, platform).status_code == 200
    assert [k for k in redis.keys("rml:*") if b"-launch-" in k] and cache_rows(app) == 0  # normally all in Redis
    assert https_client(up).get("/readyz").status_code == 200

    own_redis.stop()
    assert landed(login_here_launch_there(up, other, platform))
    assert picker_here_after_launch_there(up, other, platform).status_code == 200
    assert cache_rows(app) > 0
    assert https_client(up).get("/readyz").get_json()["failing"] == ["redis"]
    # a login during the outage whose launch arrives after Redis is back
    login = https_client(up)
    params = Launcher(login, platform).start()

    own_redis.start()
    redis = own_redis.client()
    assert redis.keys("rml:*") == []  # a fresh, empty Redis
    launch = https_client(other)
    for cookie in login._cookies.values():
        launch.set_cookie(cookie.key, cookie.value, domain="tool.test")
    token = platform.id_token(params["nonce"])
    assert landed(launch.post("/lti/launch", data={"id_token": token, "state": params["state"]}))
    before = cache_rows(app)
    assert landed(login_here_launch_there(up, other, platform))
    assert picker_here_after_launch_there(up, other, platform).status_code == 200
    assert [k for k in redis.keys("rml:*") if b"-launch-" in k], "after recovery, launch data goes to Redis again"
    assert cache_rows(app) == before
    assert https_client(up).get("/readyz").status_code == 200


def test_storage_purge_removes_what_expired(app, runner):
    from datetime import timedelta

    from lti_tool.models import UsedNonce, utcnow

    with app.app_context():
        now = utcnow()
        db.session.add_all([CacheEntry(key="old", value=1, expires_at=now - timedelta(minutes=1)),
                            CacheEntry(key="live", value=2, expires_at=now + timedelta(hours=1)),
                            UsedNonce(issuer="https://lms.example", nonce="n-old", expires_at=now - timedelta(seconds=1)),
                            UsedNonce(issuer="https://lms.example", nonce="n-live", expires_at=now + timedelta(hours=1))])
        db.session.commit()
    result = runner.invoke(args=["storage", "purge"])
    assert result.exit_code == 0 and "1 expired cache entries and 1 expired nonces deleted" in result.output
    with app.app_context():
        assert db.session.scalars(db.select(CacheEntry.key)).all() == ["live"]
        assert db.session.scalars(db.select(UsedNonce.nonce)).all() == ["n-live"]


def test_propose_with_the_queue_down_leaves_no_run_stuck_in_queued(app, platform):
    """The reported half-done operation: Propose teams gave a 500 and the run stayed 'queued' for ever."""
    from lti_tool.models import MatchRun

    client, cohort_id, page = facilitator_with_redis_down(app, platform)
    response = client.post(f"/facilitator/cohorts/{cohort_id}/match", data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 503 and UNAVAILABLE in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(MatchRun)) == 0
