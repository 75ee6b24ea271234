"""After a follow-up meeting: "Did you meet?" on the learner's home page and from the emailed link (no
launch), and the facilitator's check-in page, each axe clean at 390 and 1280 px, with screenshots."""
from __future__ import annotations

import re
from datetime import timedelta, timezone

import pytest

from tests.browser.conftest import screenshot, serve_demo
from tests.browser.test_workflow_pages import axe_clean, open_tool_page


def _after_first_meetings(app):
    """Spring lab's follow-up series recorded, and everyone asked about the first meeting of Ana's team."""
    from lti_tool.extensions import db
    from lti_tool.models import CheckIn, Cohort, LtiUser, Participant
    from lti_tool.services import calendar_events, check_ins, follow_ups

    cohort = db.session.execute(db.select(Cohort).where(Cohort.name == "Spring lab")).scalar_one()
    calendar_events.record_versions(cohort)
    ana = db.session.execute(db.select(Participant).join(LtiUser, LtiUser.id == Participant.user_id).where(
        Participant.cohort_id == cohort.id, LtiUser.sub == "dev-ana")).scalar_one()
    overview = follow_ups.follow_up_overview(cohort)
    first = next(t for t in overview if ana.id in t["team"].member_ids)["meetings"][0][0]
    check_ins.queue_check_ins(cohort, first.astimezone(timezone.utc) + timedelta(hours=3))
    other = db.session.execute(db.select(CheckIn).where(CheckIn.participant_id != ana.id)  # Ana's stays open
                               .order_by(CheckIn.id)).scalars().first()
    return {"link": check_ins.link_for(other), "cohort": cohort.id}


@pytest.fixture(scope="module")
def checked_in(tmp_path_factory):
    yield from serve_demo(tmp_path_factory, _after_first_meetings)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_learner_answers_on_the_home_page(page, checked_in, width):
    base, _ = checked_in
    open_tool_page(page, base, "Launch as learner Ana", "Welcome, Ana Costa")
    question = page.get_by_role("heading", name=re.compile(r"^Did you meet Ben Okafor on "))
    assert question.is_visible()
    axe_clean(page, width)
    screenshot(page, f"check-in-home-{width}")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_emailed_link_asks_and_records_without_a_launch(page, checked_in, width):
    base, prepared = checked_in
    link = re.sub(r"^https?://[^/]+", base, prepared["link"])
    page.goto(link)
    page.get_by_role("heading", level=1, name="Did you meet?").wait_for()
    axe_clean(page, width)
    screenshot(page, f"check-in-link-{width}")
    page.get_by_role("button", name="We moved it to another time").click()
    page.get_by_text("your answer is saved").wait_for()
    axe_clean(page, width)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_facilitator_sees_the_check_ins(page, checked_in, width):
    base, prepared = checked_in
    open_tool_page(page, base, "Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
    page.goto(f"{base}/facilitator/cohorts/{prepared['cohort']}/check-ins")
    page.get_by_role("heading", level=1, name="Follow-up check-ins").wait_for()
    axe_clean(page, width)
    screenshot(page, f"check-in-facilitator-{width}")
