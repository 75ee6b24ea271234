"""Calls to the LMS reuse each platform's access token (shared by every worker), refresh it once on a 401 and
back off on 429/5xx. The test LMS answers over real HTTP; faults are answers it really sends."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService

from lti_tool.extensions import db
from lti_tool.lti.connector import retry_after_seconds
from lti_tool.lti.tool_config import service_connector
from lti_tool.models import Platform
from tests.lti.test_shared_storage import second_worker

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def roster_call(platform):
    """One NRPS call, through a connector built as the app builds one per job."""
    connector = service_connector(db.session.scalar(db.select(Platform)))
    url = f"{platform.issuer}/nrps/course-1"
    return NamesRolesProvisioningService(connector, {"context_memberships_url": url}).get_members()


def score_call(platform):
    connector = service_connector(db.session.scalar(db.select(Platform)))
    ags = AssignmentsGradesService(connector, {"scope": [SCORE], "lineitem": f"{platform.issuer}/ags/course-1/lineitems/1"})
    grade = (Grade().set_score_given(1).set_score_maximum(2).set_activity_progress("InProgress")
             .set_grading_progress("Pending").set_user_id("u-1")
             .set_timestamp(datetime.now(timezone.utc).isoformat(timespec="milliseconds")))
    return ags.put_grade(grade, LineItem().set_id(f"{platform.issuer}/ags/course-1/lineitems/1"))


@pytest.fixture
def lms(platform):
    platform.members = [{"user_id": "u-1", "status": "Active", "roles": ["Learner"], "name": "Ana"}]
    return platform


def test_25_roster_and_score_calls_ask_for_two_tokens(app, lms):
    with app.app_context():
        for i in range(25):
            roster_call(lms) if i % 5 else score_call(lms)
    assert len(lms.service_calls) == 25
    assert len(lms.token_requests) == 2  # one per scope set
    assert {r["scope"] for r in lms.token_requests} == {
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly", SCORE}
    assert len(lms.scores) == 5


def test_the_token_is_shared_between_instances(app, lms):
    other = second_worker(app)
    with app.app_context():
        roster_call(lms)
    with other.app_context():
        roster_call(lms)
    assert len(lms.token_requests) == 1


def test_the_token_is_shared_through_redis(app, lms, own_redis):
    first, second = (second_worker(app, REDIS_URL=own_redis.url) for _ in range(2))
    with first.app_context():
        roster_call(lms)
    with second.app_context():
        roster_call(lms)
    assert len(lms.token_requests) == 1
    [key] = own_redis.client().keys("rml:lti-access-token:*")
    assert 0 < own_redis.client().ttl(key) <= 3600 - 60  # expires_in less the margin


def test_a_token_is_renewed_shortly_before_it_expires(app, lms):
    lms.token_expires_in = 62  # the tool keeps it 62 - 60 = 2 seconds
    with app.app_context():
        roster_call(lms)
        roster_call(lms)
        assert len(lms.token_requests) == 1
        time.sleep(2.2)
        roster_call(lms)
    assert len(lms.token_requests) == 2
    lms.token_expires_in = 30  # shorter than the margin: used once, never kept
    time.sleep(2.2)
    with app.app_context():
        roster_call(lms)
        roster_call(lms)
    assert len(lms.token_requests) == 4


def test_a_401_gets_one_fresh_token_and_one_retry(app, lms):
    with app.app_context():
        roster_call(lms)
        lms.revoke_tokens()  # e.g. the LMS restarted and forgot the tokens it issued
        assert roster_call(lms)[0]["user_id"] == "u-1"
        assert len(lms.token_requests) == 2 and len(lms.service_calls) == 3
        lms.service_faults = [(401, {}), (401, {})]  # refused even with a fresh token: give up, no loop
        with pytest.raises(LtiServiceException, match="401"):
            roster_call(lms)
    assert len(lms.token_requests) == 3 and len(lms.service_calls) == 5


def test_429_and_5xx_back_off_honouring_retry_after(app, lms, monkeypatch):
    monkeypatch.setitem(app.config, "LTI_SERVICE_MAX_WAIT_SECONDS", 10)  # the default (tests otherwise cap at 0.05 s)
    with app.app_context():
        roster_call(lms)
        lms.service_faults = [(429, {"Retry-After": "1"}), (503, {})]
        started = time.monotonic()
        assert roster_call(lms)[0]["user_id"] == "u-1"
        waited = time.monotonic() - started
    assert 1.0 + 0.5 <= waited < 4  # Retry-After 1 s, then the first back-off step (0.5 s and more)
    assert len(lms.service_calls) == 4 and len(lms.token_requests) == 1


def test_back_off_is_bounded(app, lms, monkeypatch):
    monkeypatch.setitem(app.config, "LTI_SERVICE_MAX_WAIT_SECONDS", 0.2)
    with app.app_context():
        lms.service_faults = [(429, {"Retry-After": "3600"})] * 4  # more than the three retries
        started = time.monotonic()
        with pytest.raises(LtiServiceException, match="429"):
            roster_call(lms)
        assert 0.6 <= time.monotonic() - started < 2  # three waits capped at 0.2 s, not an hour
    assert len(lms.service_calls) == 4


def test_a_score_post_is_retried_only_where_the_lms_did_not_process_it(app, lms):
    with app.app_context():
        lms.service_faults = [(503, {"Retry-After": "0"})]
        score_call(lms)
        assert len(lms.scores) == 1 and len(lms.service_calls) == 2
        lms.service_faults = [(500, {})]  # it may have been stored: not posted again (the job retries later)
        with pytest.raises(LtiServiceException, match="500"):
            score_call(lms)
    assert len(lms.service_calls) == 3


def test_the_token_endpoint_is_retried_on_429(app, lms):
    with app.app_context():
        lms.token_faults = [(429, {"Retry-After": "0"})]
        roster_call(lms)
    assert len(lms.token_requests) == 1  # the refused attempt never reached the endpoint's handler


def test_retry_after_formats():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    future = datetime.fromtimestamp(time.time() + 30, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 28 <= retry_after_seconds(future) <= 31
