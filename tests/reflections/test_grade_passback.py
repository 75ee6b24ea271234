"""AGS passback: line item per lab link, scores with the right fields, tool-signed token, failures."""
from __future__ import annotations

import jwt

from tests.reflections.helpers import SESSION, cohort_id, lab_held, launch, participant_id, reflect

SCORE_FIELDS = {"scoreGiven", "scoreMaximum", "activityProgress", "gradingProgress", "timestamp", "userId"}


def _verify_client_assertion(client, platform, request):
    assert request["grant_type"] == "client_credentials"
    assert request["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    token = request["client_assertion"]
    kid = jwt.get_unverified_header(token)["kid"]
    jwks = client.get("/lti/jwks").get_json()
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=platform.issuer + "/token")
    assert claims["iss"] == platform.client_id and claims["sub"] == platform.client_id
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in request["scope"]


def test_score_reaches_the_platform_with_created_line_item_and_signed_token(app, client, lti, platform):
    launch(lti, "ana", with_ags=True)
    cid = cohort_id(app)
    lab_held(app)
    assert reflect(client, cid, learned_from_partner="x", gain_self="4", gain_partner="4").status_code == 303
    assert len(platform.lineitems) == 1
    item = platform.lineitems[0]
    assert item["tag"] == "reciprocal-lab-completion" and item["resourceId"] == "link-1"
    assert item["resourceLinkId"] == "link-1" and item["scoreMaximum"] > 0
    assert len(platform.scores) == 1
    score = platform.scores[0]
    assert score["lineitem"] == item["id"]
    assert score["content_type"].startswith("application/vnd.ims.lis.v1.score+json")
    body = score["body"]
    assert SCORE_FIELDS <= set(body)
    assert body["userId"] == "ana" and body["scoreGiven"] == 1 and body["scoreMaximum"] == item["scoreMaximum"]
    # Partial progress is a final score for now (FullyGraded): Moodle stores a value only when it is.
    assert body["activityProgress"] == "InProgress" and body["gradingProgress"] == "FullyGraded"
    assert "T" in body["timestamp"]
    assert platform.token_requests, "no client-credentials request reached the platform"
    _verify_client_assertion(client, platform, platform.token_requests[-1])
    # the created line item is remembered: the next score goes straight to it (no second line item)
    reflect(client, cid, session="d1-afternoon", do_differently="y", gain_self="3", gain_partner="3")
    assert len(platform.lineitems) == 1 and len(platform.scores) == 2
    assert platform.scores[1]["body"]["scoreGiven"] == 2


def test_platform_supplied_line_item_is_used_and_sending_twice_is_idempotent(app, client, lti, platform):
    from lti_tool.services.grades import push_score

    supplied = f"{platform.issuer}/ags/course-1/lineitems/7"
    platform.lineitems.append({"id": supplied, "label": "LMS column", "scoreMaximum": 100})
    response = lti(sub="ana", custom={"cohort": "spring-lab"}, extra={
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "lineitems": f"{platform.issuer}/ags/course-1/lineitems", "lineitem": supplied}})
    assert response.status_code in (200, 302, 303)
    cid = cohort_id(app)
    lab_held(app)
    reflect(client, cid, learned_from_partner="x", gain_self="4", gain_partner="4")
    assert len(platform.lineitems) == 1
    assert [s["lineitem"] for s in platform.scores] == [supplied]
    from lti_tool.extensions import db
    from lti_tool.models import ResourceLink

    with app.app_context():
        link_id = db.session.execute(db.select(ResourceLink.id)).scalar_one()
        assert push_score(participant_id(app, "ana"), link_id) == "unchanged"
    assert len(platform.scores) == 1


def test_failure_is_recorded_shown_to_facilitator_and_retried(app, client, lti, platform):
    from lti_tool.extensions import db
    from lti_tool.models import GradeSync, Reflection

    launch(lti, "ana", with_ags=True)
    cid = cohort_id(app)
    lab_held(app)
    platform.fail_scores = 4  # the first post and the connector's three retries
    assert reflect(client, cid, learned_from_partner="kept", gain_self="4", gain_partner="4").status_code == 303
    with app.app_context():
        sync = db.session.execute(db.select(GradeSync)).scalar_one()
        assert sync.status == "failed" and "503" in sync.last_error and sync.attempts == 1
        # the learner's work is saved regardless
        assert db.session.execute(db.select(Reflection)).scalar_one().answers["learned_from_partner"] == "kept"
    assert platform.scores == []
    launch(lti, "fac", role="instructor", with_ags=True)
    page = client.get(f"/facilitator/cohorts/{cid}/progress")
    html = page.get_data(as_text=True)
    assert "1 gradebook update(s) failed" in html and "503" in html
    from tests.conftest import csrf_token_in

    resend = client.post(f"/facilitator/cohorts/{cid}/progress/resend", data={"csrf_token": csrf_token_in(page)})
    assert resend.status_code == 303
    assert len(platform.scores) == 1 and platform.scores[0]["body"]["userId"] == "ana"
    with app.app_context():
        sync = db.session.execute(db.select(GradeSync)).scalar_one()
        assert sync.status == "sent" and sync.last_error is None and sync.attempts == 2
    assert "failed" not in client.get(f"/facilitator/cohorts/{cid}/progress").get_data(as_text=True).split("<table")[0]


def test_worker_reraises_so_rq_retries(app, client, lti, platform, monkeypatch):
    import pytest
    from pylti1p3.exception import LtiServiceException

    from lti_tool.extensions import db
    from lti_tool.models import GradeSync, ResourceLink
    from lti_tool.services import grades

    launch(lti, "ana", with_ags=True)
    platform.fail_scores = 5
    monkeypatch.setattr(grades, "_in_worker", lambda: True)
    with app.app_context():
        link_id = db.session.execute(db.select(ResourceLink.id)).scalar_one()
        with pytest.raises(LtiServiceException):  # the LMS's 503, re-raised so RQ retries
            grades.push_score(participant_id(app, "ana"), link_id)
        assert db.session.execute(db.select(GradeSync.status)).scalar_one() == "failed"


def test_enqueue_uses_rq_retry_with_backoff(app, monkeypatch):
    """With Redis configured, a score job is queued with RQ retries and back-off intervals."""
    from lti_tool import jobs

    captured = {}

    class FakeQueue:
        def enqueue(self, fn, *args, retry=None):
            captured.update(args=args, retry=retry)
            return type("Job", (), {"id": "job-1"})()

    monkeypatch.setattr(jobs, "queue", lambda: FakeQueue())
    with app.app_context():
        app.config["REDIS_URL"] = "redis://example.invalid/0"
        try:
            assert jobs.enqueue("lti_tool.services.grades.push_score", 1, 2) == "job-1"
        finally:
            app.config["REDIS_URL"] = None
    assert captured["args"] == ("lti_tool.services.grades.push_score", 1, 2)
    assert captured["retry"].max == 3 and captured["retry"].intervals == [10, 60, 300]


def test_attendance_and_intake_changes_in_a_request_send_a_score(app, client, lti, platform):
    """Any request that records attendance or an intake submit queues the score after its response."""
    from datetime import datetime

    from flask import Response

    from lti_tool.extensions import db
    from lti_tool.models import Attendance, Participant

    launch(lti, "ana", with_ags=True)
    cid, pid = cohort_id(app), participant_id(app, "ana")
    with app.test_request_context("/facilitator/attendance"):
        for sid in day_one_sessions():  # a day counts once all its working sessions are recorded present
            db.session.add(Attendance(cohort_id=cid, participant_id=pid, session_id=sid, present=True))
        db.session.get(Participant, pid).intake_submitted_at = datetime(2026, 3, 1)
        db.session.commit()
        app.process_response(Response("ok"))
    assert len(platform.scores) == 1
    assert platform.scores[0]["body"]["scoreGiven"] == 2 and platform.scores[0]["body"]["userId"] == "ana"


def day_one_sessions() -> list[str]:
    from lti_tool.services.curriculum import curriculum

    return [s.id for s in curriculum().sessions if int(s.day) == 1 and not s.is_break]


def test_progress_reaches_the_gradebook_as_it_grows_and_completion_says_completed(app, client, lti, platform):
    """Every score is FullyGraded (the LMS shows 1/N, 2/N ... as it grows); the last one says Completed."""
    from datetime import datetime

    from lti_tool.extensions import db
    from lti_tool.models import Attendance, Participant, Reflection, ResourceLink
    from lti_tool.services import curriculum as cur
    from lti_tool.services.grades import push_score

    launch(lti, "ana", with_ags=True)
    cid, pid = cohort_id(app), participant_id(app, "ana")
    lab_held(app)
    reflect(client, cid, learned_from_partner="x", gain_self="4", gain_partner="4")
    first = platform.scores[-1]["body"]
    assert (first["scoreGiven"], first["activityProgress"], first["gradingProgress"]) == (1, "InProgress", "FullyGraded")
    with app.app_context():
        db.session.get(Participant, pid).intake_submitted_at = datetime(2026, 3, 1)
        for s in cur.curriculum().sessions:
            if not s.is_break:
                db.session.add(Attendance(cohort_id=cid, participant_id=pid, session_id=s.id, present=True))
        for r in cur.half_day_reflections():
            if r.id != SESSION:
                db.session.add(Reflection(cohort_id=cid, participant_id=pid, session_id=r.id, status="submitted"))
        db.session.commit()
        link_id = db.session.execute(db.select(ResourceLink.id)).scalar_one()
        assert push_score(pid, link_id) == "sent"
    last = platform.scores[-1]["body"]
    assert last["scoreGiven"] == last["scoreMaximum"] > 1
    assert (last["activityProgress"], last["gradingProgress"]) == ("Completed", "FullyGraded")
