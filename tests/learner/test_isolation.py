"""A learner never reaches another course's or platform's cohort, nor a facilitator page."""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token_in, https_client, register
from tests.learner.conftest import cohort_id, fill
from tests.lti_platform import Launcher, TestPlatform


def urls(cohort, other):
    return [f"/learner/cohorts/{cohort}/intake", f"/learner/cohorts/{cohort}/people",
            f"/learner/cohorts/{cohort}/withdraw"], [
            f"/learner/cohorts/{cohort}/intake", f"/learner/cohorts/{cohort}/intake/draft",
            f"/learner/cohorts/{cohort}/people/{other}", f"/learner/cohorts/{cohort}/withdraw"]


def test_learner_of_another_course_gets_404(people, lti, client, app):
    ben = fill(app, "ben")
    # same platform, another course, another cohort
    lti(role="learner", sub="zoe", name="Zoe Other", email="z@example.com", context_id="course-2",
        custom={"cohort": "autumn"})
    autumn = cohort_id(app, "autumn")
    token = csrf_token_in(client.get(f"/learner/cohorts/{autumn}/intake"))
    gets, posts = urls(people, ben)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, data={"csrf_token": token, "action": "request"},
                           headers={"X-CSRFToken": token}).status_code == 404, url
    assert "Ben Okafor" not in client.get(f"/learner/cohorts/{autumn}/people").get_data(as_text=True)


def test_learner_of_another_platform_gets_404(people, app):
    ben = fill(app, "ben")
    other_lms = TestPlatform(client_id="other-client", deployment_id="other-deploy")
    try:
        register(app, other_lms)
        client2 = https_client(app)
        Launcher(client2, other_lms)(role="learner", sub="ana", name="Ana Elsewhere", email="a@x.example",
                                     context_id="course-1", custom={"cohort": "spring"})
        gets, _ = urls(people, ben)
        for url in gets:
            assert client2.get(url).status_code == 404, url
        mine = client2.get("/learner/").get_data(as_text=True)
        assert "Ana Elsewhere" in mine
    finally:
        other_lms.close()


def test_not_launched_gets_401(app):
    assert https_client(app).get("/learner/cohorts/1/intake").status_code == 401


@pytest.mark.parametrize("url", ["/facilitator/", "/insights/"])
def test_facilitator_and_insight_pages_are_403_for_a_learner(people, client, url):
    assert client.get(url).status_code == 403


def test_instructor_is_not_a_learner_here(people, lti, client):
    lti(role="instructor", sub="teacher", name="Tess", email="t@example.com")
    assert client.get(f"/learner/cohorts/{people}/intake").status_code == 403
