"""A matching run stuck in queued/running past MATCH_RUN_TIMEOUT_SECONDS (its job lost, its worker dead):
its page says so without writing, the sweep marks it failed, and Retry starts it again."""
from __future__ import annotations

from datetime import timedelta

from lti_tool.extensions import db
from lti_tool.models import Cohort, MatchRun, utcnow
from lti_tool.services import upkeep
from tests.conftest import csrf_token_in


def stuck_run(app, status="queued", age_minutes=60) -> tuple[int, int]:
    with app.app_context():
        cohort_id = db.session.scalar(db.select(Cohort.id))
        run = MatchRun(cohort_id=cohort_id, status=status, created_at=utcnow() - timedelta(minutes=age_minutes))
        db.session.add(run)
        db.session.commit()
        return cohort_id, run.id


def status_of(app, run_id):
    with app.app_context():
        return db.session.get(MatchRun, run_id).status


def test_the_sweep_fails_runs_stuck_past_the_time_limit_and_leaves_recent_ones(app, lti):
    lti(role="instructor", sub="fran", custom={"cohort": "lab"})
    app.config["MATCH_RUN_TIMEOUT_SECONDS"] = 600
    _, old = stuck_run(app, "running", age_minutes=11)
    _, recent = stuck_run(app, "queued", age_minutes=9)
    with app.app_context():
        assert upkeep.sweep()["stuck_runs"] == 1
        assert "Retry" in db.session.get(MatchRun, old).error
    assert (status_of(app, old), status_of(app, recent)) == ("failed", "queued")


def test_a_stuck_run_shows_a_retry_without_writing_and_retry_starts_a_new_run(app, lti, client):
    lti(role="instructor", sub="fran", custom={"cohort": "lab"})
    cohort_id, run_id = stuck_run(app)
    page = client.get(f"/facilitator/cohorts/{cohort_id}/match/{run_id}")
    assert "no result for longer than it should take" in page.get_data(as_text=True)
    assert status_of(app, run_id) == "queued"  # shown as stuck, not changed by the GET
    response = client.post(f"/facilitator/cohorts/{cohort_id}/match/{run_id}/retry",
                           data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 303
    new_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert new_id != run_id and status_of(app, run_id) == "failed" and status_of(app, new_id) == "done"


def test_a_run_still_in_time_cannot_be_retried(app, lti, client):
    lti(role="instructor", sub="fran", custom={"cohort": "lab"})
    cohort_id, run_id = stuck_run(app, age_minutes=1)
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    client.post(f"/facilitator/cohorts/{cohort_id}/match/{run_id}/retry", data={"csrf_token": csrf_token_in(page)})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(MatchRun)) == 1
