"""The intake in steps with the keyboard only, counted; the partner page; both axe clean at 1280 and 390 px."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from lti_tool.models import Cohort, LtiUser, Participant
from tests.browser.conftest import screenshot
from tests.browser.test_learner_pages import check_axe, tool_page


@pytest.fixture
def fresh_intake(live_server, tmp_path_factory):
    """Emma's Summer lab intake emptied, in the live server's database, as if she had never started it."""
    (database,) = tmp_path_factory.getbasetemp().glob("instance[0-9]*/live.sqlite3")
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        summer = session.scalar(select(Cohort.id).where(Cohort.slug == "summer-lab"))
        emma = session.scalar(select(LtiUser.id).where(LtiUser.sub == "dev-emma"))
        session.execute(update(Participant).where(Participant.cohort_id == summer, Participant.user_id == emma).values(
            gender=None, department=None, location=None, timezone=None, level=None, offers=[], wants=[],
            goals=None, availability=[], consent=False, visible_fields=[], intake_updated_at=None,
            intake_submitted_at=None))
        session.commit()
    engine.dispose()
    return summer


class Keyboard:
    """Presses keys and counts them: every Tab, and every other key or typed text (an answer)."""

    def __init__(self, page):
        self.page, self.tabs, self.actions = page, 0, 0

    def tab_to(self, locator, limit=150):
        for _ in range(limit):
            if locator.evaluate("el => el === document.activeElement"):
                return
            self.page.keyboard.press("Tab")
            self.tabs += 1
        raise AssertionError(f"Tab never reached {locator}")

    def tick(self, locator):
        """Tab to a checkbox or radio button and press Space."""
        self.tab_to(locator)
        self.press("Space")

    def press(self, key):
        self.page.keyboard.press(key)
        self.actions += 1

    def type(self, text):
        self.page.keyboard.type(text)
        self.actions += 1

    def next_step(self, heading):
        self.tab_to(self.page.get_by_role("button", name="Next", exact=True).locator("visible=true"))
        self.press("Enter")
        self.page.get_by_role("heading", level=2, name=heading).wait_for()
        assert self.page.evaluate("() => document.activeElement.tagName") == "H2"  # focus moved to the step


def test_whole_intake_with_the_keyboard_only(browser, live_server, fresh_intake):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/Chicago")
    page = context.new_page()
    try:
        tool_page(page, live_server, "Emma", "Welcome, Emma Lindqvist")
        page.goto(f"{live_server}/learner/cohorts/{fresh_intake}/intake")
        page.get_by_role("heading", level=2, name="About you").wait_for()
        assert page.get_by_role("heading", level=2, name="What you offer").is_hidden()  # one step at a time
        keys = Keyboard(page)

        keys.tick(page.get_by_label("Woman", exact=True))
        keys.tab_to(page.get_by_label("Department", exact=True))
        keys.type("People & Culture")
        keys.tab_to(page.get_by_label("Location", exact=True))
        keys.type("Stockholm")
        keys.tab_to(page.get_by_label("1 – Early career"))
        keys.press("ArrowDown")
        keys.press("ArrowDown")  # 3 – Team lead or senior specialist
        screenshot(page, "intake-step1-1280")
        keys.next_step("What you offer")

        keys.tick(page.locator("#offers").get_by_label("Giving feedback"))
        keys.tick(page.locator("#offers").get_by_label("Coaching others"))
        keys.tab_to(page.get_by_role("button", name="Move up: Coaching others"))
        keys.press("Enter")
        page.get_by_text("Coaching others is now number 1 of 2.").wait_for(state="attached")
        assert page.locator("#offers-ranked li .skill").all_inner_texts() == ["Coaching others", "Giving feedback"]
        screenshot(page, "intake-step2-1280")
        keys.next_step("What you want to learn")

        keys.tick(page.locator("#wants").get_by_label("AI tools"))
        keys.tick(page.locator("#wants").get_by_label("Project management"))
        keys.next_step("When you are free")

        zone = page.get_by_label("Time zone", exact=True)
        assert zone.input_value() == "America/Chicago"  # the device's zone, offered on a fresh intake
        keys.tick(page.get_by_label("Wednesday 09:00"))
        keys.tick(page.get_by_label("Thursday 13:00"))
        screenshot(page, "intake-step4-1280")
        keys.next_step("Review and submit")

        review = page.locator("#review-summary")
        assert "Coaching others, Giving feedback" in review.inner_text()
        assert "Hours a week: 2" in review.inner_text() and "Not answered yet" not in review.inner_text()
        keys.tick(page.get_by_role("checkbox", name="I agree"))
        screenshot(page, "intake-step5-1280")
        keys.tab_to(page.get_by_role("button", name="Submit intake"))
        keys.press("Enter")
        page.get_by_text("Thank you: your intake is submitted.").wait_for()
        print(f"\nKeyboard-only intake: {keys.actions} answers/keys besides Tab, {keys.tabs} Tab presses, "
              f"{keys.actions + keys.tabs} key presses in all")
        assert keys.actions <= 25
    finally:
        context.close()


def test_review_points_at_what_is_missing(page, live_server, fresh_intake):
    tool_page(page, live_server, "Emma", "Welcome, Emma Lindqvist")
    page.goto(f"{live_server}/learner/cohorts/{fresh_intake}/intake")
    page.get_by_role("link", name="Review and submit").click()
    review = page.locator("#review-summary")
    assert review.inner_text().count("Not answered yet (required)") == 7
    review.get_by_role("link", name="Change: Department").click()
    page.get_by_label("Department", exact=True).wait_for()
    assert page.evaluate("() => document.activeElement.id") == "department"


@pytest.mark.parametrize("width", [1280, 390])
def test_intake_steps_pass_axe(page, live_server, width):
    tool_page(page, live_server, "Farid", "Welcome, Farid Haddad")
    page.get_by_role("link", name="Edit your intake").first.click()
    page.set_viewport_size({"width": width, "height": 900})
    for step in ("About you", "What you offer", "What you want to learn", "When you are free", "Review and submit"):
        page.get_by_role("navigation", name="Intake steps").get_by_role("link", name=step).click()
        page.get_by_role("heading", level=2, name=step).wait_for()
        check_axe(page, f"intake step {step} at {width}px")
        assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"), step
        screenshot(page, f"intake-{step.split()[0].lower()}-{step.split()[-1].lower()}-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_partner_page_passes_axe(page, live_server, width):
    tool_page(page, live_server)
    page.get_by_role("link", name="Contact, shared free hours and what you give each other").first.click()
    page.get_by_role("heading", level=1, name="Your partner").wait_for()
    assert page.get_by_role("heading", level=2, name="What to do next").is_visible()
    assert page.locator("a[href^='mailto:']").count() >= 1
    page.set_viewport_size({"width": width, "height": 900})
    check_axe(page, f"partner page at {width}px")
    assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    screenshot(page, f"learner-partner-{width}")


def test_without_script_the_intake_is_one_form_with_rank_numbers(browser, page, live_server):
    url = tool_page(page, live_server, "Grace", "Welcome, Grace Wu")  # the launch itself uses script
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False,
                                  storage_state=page.context.storage_state())
    page = context.new_page()
    try:
        page.goto(url)
        page.get_by_role("link", name="Edit your intake").first.click()
        for step in ("About you", "What you offer", "What you want to learn", "When you are free",
                     "Review and submit"):
            assert page.get_by_role("heading", level=2, name=step).is_visible()
        assert page.locator("#wants-ranked li .skill").all_inner_texts() == ["Sales", "Customer insight"]
        page.get_by_label("Rank Customer insight").fill("1")
        page.get_by_label("Rank Sales").fill("2")
        page.get_by_role("button", name="Save draft").click()
        page.get_by_text("Draft saved.").wait_for()
        assert page.locator("#wants-ranked li .skill").all_inner_texts() == ["Customer insight", "Sales"]
        screenshot(page, "intake-without-script-1280")
    finally:
        context.close()
