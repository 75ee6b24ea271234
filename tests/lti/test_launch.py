"""Full OIDC login + signed launch for every role, as real platforms send them."""
from __future__ import annotations

import pytest
from flask import request

from lti_tool.extensions import db
from lti_tool.models import Cohort, Course, LtiUser, Membership, Participant
from tests.conftest import csrf_token_in, https_client, register
from tests.lti_platform import REPLACE_STATE, Launcher, TestPlatform, landed


@pytest.mark.parametrize("role, landing, heading", [
    ("learner", "/learner/", "Welcome, Ana Costa"),
    ("instructor", "/facilitator/", "Cohorts in Mentoring course"),
    ("ta", "/facilitator/", "Cohorts in Mentoring course"),
    ("openedx_staff", "/facilitator/", "Cohorts in Mentoring course"),
    ("lnd", "/insights/", "Lab cohorts across your organisation"),
    ("system_admin", "/insights/", "Lab cohorts across your organisation"),
])
def test_each_role_lands_on_its_page(lti, client, app, role, landing, heading):
    response = lti(role=role)
    # The launch answers with the landing page itself, whose address it swaps in for /lti/launch …
    assert landed(response, landing), response.get_data(as_text=True)[:500]
    assert heading in response.get_data(as_text=True)
    cookies = response.headers.getlist("Set-Cookie")
    assert len([c for c in cookies if c.startswith(app.config["SESSION_COOKIE_NAME"] + "=")]) == 1, cookies
    assert len(response.headers.getlist("X-Request-ID")) == 1
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">history.replaceState' in response.get_data(as_text=True)
    # … so a reload is a plain GET of that page, in the session the launch started.
    page = client.get(landing)
    assert page.status_code == 200
    assert heading in page.get_data(as_text=True)
    assert REPLACE_STATE not in page.get_data(as_text=True)


def test_login_initiation_accepts_post(lti):
    response = lti.login(method="POST")
    assert response.status_code == 302
    assert "state=" in response.headers["Location"] and "nonce=" in response.headers["Location"]


def test_login_without_new_window_shows_cookie_check(lti):
    params = {"iss": lti.platform.issuer, "login_hint": "x", "target_link_uri": "https://tool.test/lti/launch",
              "client_id": lti.platform.client_id}
    response = lti.client.get("/lti/login", query_string=params)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "lti1p3_new_window=1" in body and "Open the lab in a new window" in body
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in body


def test_session_carries_only_ids(lti, client, app):
    lti(role="learner")
    with client.session_transaction() as session:
        assert set(session.keys()) <= {"launch_id", "user_id", "course_id", "roles", "return_url", "locale",
                                        "_permanent", "csrf_token"}
        assert isinstance(session["user_id"], int) and isinstance(session["course_id"], int)


def test_launch_records_user_course_membership(lti, app):
    lti(role="instructor", sub="teacher-9", name="Tess Teacher", email="tess@example.com")
    with app.app_context():
        user = db.session.execute(db.select(LtiUser).filter_by(sub="teacher-9")).scalar_one()
        assert user.name == "Tess Teacher" and user.contact_email == "tess@example.com"
        course = db.session.execute(db.select(Course).filter_by(context_id="course-1")).scalar_one()
        membership = db.session.execute(db.select(Membership).filter_by(user_id=user.id)).scalar_one()
        assert membership.course_id == course.id and membership.tool_roles == ["facilitator"]


def test_custom_cohort_is_created_on_demand_and_learner_enrolled(lti, app):
    lti(role="learner", custom={"cohort": "autumn-lab"})
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort).filter_by(slug="autumn-lab")).scalar_one()
        assert db.session.execute(db.select(Participant).filter_by(cohort_id=cohort.id)).scalar_one()


def test_clock_a_few_seconds_ahead_is_accepted(lti):
    response = lti(role="learner", iat_offset=10)
    assert landed(response, "/learner/")


def test_openedx_launch_without_name_or_email_asks_for_them(lti, client):
    response = lti(role="learner", sub="a1b2c3-anonymous", name=None, email=None,
                   resource_link_id="block-v1:Org+Course+Run+type@lti_consumer+block@0123456789abcdef0123")
    assert response.status_code == 302 and "/lti/profile" in response.headers["Location"]
    page = client.get("/learner/")
    assert page.status_code == 302 and "/lti/profile" in page.headers["Location"]
    form = client.get(page.headers["Location"])
    assert "did not share your name or email" in form.get_data(as_text=True)
    csrf = csrf_token_in(form)
    bad = client.post("/lti/profile", data={"csrf_token": csrf, "display_name": "", "email": "nope", "next": "/learner/"})
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in text and "Invalid email address" in text
    done = client.post("/lti/profile", data={"csrf_token": csrf, "display_name": "Sam", "email": "sam@example.com",
                                             "next": "/learner/"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/learner/")
    assert "Welcome, Sam" in client.get("/learner/").get_data(as_text=True)


def test_profile_form_rejects_missing_csrf(lti, client):
    lti(role="learner", name=None, email=None)
    response = client.post("/lti/profile", data={"display_name": "Sam", "email": "sam@example.com"})
    assert response.status_code == 400


def test_platform_keys_are_cached_and_refetched_on_rotation(lti, platform):
    assert landed(lti(role="learner", sub="u1"))
    assert landed(lti(role="learner", sub="u2"))
    assert platform.jwks_fetches == 1
    platform.rotate_key()
    assert landed(lti(role="learner", sub="u3"))
    assert platform.jwks_fetches == 2


def test_two_platforms_with_same_context_and_sub_never_see_each_other(app):
    first, second = TestPlatform(), TestPlatform()
    try:
        register(app, first)
        register(app, second)
        teacher_a = Launcher(https_client(app), first)
        teacher_b = Launcher(https_client(app), second)
        teacher_a(role="instructor", sub="same-sub", context_id="same-course", custom={"cohort": "only-in-a"},
                  name="Teacher A")
        teacher_b(role="instructor", sub="same-sub", context_id="same-course", name="Teacher B")
        page_b = teacher_b.client.get("/facilitator/").get_data(as_text=True)
        assert "Only in a" not in page_b and "No cohorts yet" in page_b
        page_a = teacher_a.client.get("/facilitator/").get_data(as_text=True)
        assert "Only in a" in page_a
        with app.app_context():
            assert db.session.execute(db.select(db.func.count(LtiUser.id))).scalar() == 2
            assert db.session.execute(db.select(db.func.count(Course.id))).scalar() == 2
    finally:
        first.close()
        second.close()


def test_the_landing_page_shows_what_this_launch_said_and_a_reload_agrees(lti, client):
    """The landing page's launch context is built from the rows the launch just wrote (not read back):
    a returning person whose name and role changed in the LMS sees the new ones at once, and the same
    page loaded again from the session shows the same."""
    first = lti(role="learner", sub="returning", name="Ana Costa")
    assert landed(first, "/learner/") and "Welcome, Ana Costa" in first.get_data(as_text=True)
    renamed = lti(role="learner", sub="returning", name="Ana Costa-Reis")
    assert landed(renamed, "/learner/") and "Welcome, Ana Costa-Reis" in renamed.get_data(as_text=True)
    assert "Welcome, Ana Costa-Reis" in client.get("/learner/").get_data(as_text=True)
    promoted = lti(role="instructor", sub="returning", name="Ana Costa-Reis")
    assert landed(promoted, "/facilitator/") and "Cohorts in Mentoring course" in promoted.get_data(as_text=True)
    assert client.get("/facilitator/").status_code == 200
    assert client.get("/learner/").status_code == 403  # the role the last launch gave, on the next request too


def test_a_launch_and_its_landing_page_run_the_after_request_hooks_once(lti, app):
    """The landing page is dispatched inside the launch's request: one response leaves, so every
    after_request hook (metrics, access log, security headers, session cookie, scores) runs once on it."""
    seen = []
    app.after_request_funcs.setdefault(None, []).append(lambda response: seen.append(request.path) or response)
    response = lti(role="learner")
    assert landed(response, "/learner/")
    assert seen == ["/lti/login", "/lti/launch"]
