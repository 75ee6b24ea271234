"""Real-browser launches from the development platform into the tool, inside an iframe."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot


def launch_in_iframe(page, live_server, button: str, heading: str):
    page.goto(live_server + "/dev/")
    page.get_by_role("link", name=button).click()
    frame = page.frame_locator("iframe.lti-frame")
    frame.get_by_role("heading", level=1, name=heading).wait_for(timeout=15000)
    return frame


@pytest.mark.parametrize("button, heading, name", [
    ("Launch as learner Ana", "Welcome, Ana Costa", "learner"),
    ("Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring", "facilitator"),
    ("Launch as L&D administrator Lee", "Lab cohorts across your organisation", "lnd"),
])
def test_launch_each_role_inside_an_iframe(page, live_server, button, heading, name):
    frame = launch_in_iframe(page, live_server, button, heading)
    assert frame.locator("text=Spring lab >> visible=true").first.is_visible()  # L&D: filters start closed
    screenshot(page, f"dev-launch-{name}")


def test_anonymous_learner_is_asked_for_name_and_email(page, live_server):
    frame = launch_in_iframe(page, live_server, "Launch as learner anonymous", "About you")
    frame.get_by_label("Your name, as other participants will see it").fill("Robin")
    frame.get_by_label("Email for calendar invites").fill("not-an-email")
    frame.get_by_role("button", name="Save and continue").click()
    frame.get_by_text("Invalid email address").first.wait_for()
    frame.get_by_label("Email for calendar invites").fill("robin@example.com")
    frame.get_by_role("button", name="Save and continue").click()
    frame.get_by_role("heading", level=1, name="Welcome, Robin").wait_for()
    screenshot(page, "dev-launch-anonymous")


def test_facilitator_adds_the_lab_with_deep_linking(page, live_server):
    page.goto(live_server + "/dev/")
    page.get_by_role("link", name="Add the lab to the course (deep linking)").click()
    frame = page.frame_locator("iframe.lti-frame")
    frame.get_by_label("Cohort name").fill("Autumn lab")
    frame.get_by_role("button", name="Add to course").click()
    frame.get_by_role("heading", name="The LMS received the lab link").wait_for(timeout=15000)
    assert frame.get_by_text("autumn-lab").is_visible()


@pytest.mark.parametrize("button, heading, width", [
    ("Launch as learner Ana", "Welcome, Ana Costa", 320),
    ("Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring", 320),
    ("Launch as L&D administrator Lee", "Lab cohorts across your organisation", 1000),
])
def test_landing_pages_pass_axe(page, live_server, button, heading, width):
    """WCAG 2.1 AA with axe-core, on the landing page as it renders (also at 320 px)."""
    from axe_playwright_python.sync_playwright import Axe

    launch_in_iframe(page, live_server, button, heading)
    frame_url = page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(frame_url)  # same browser session, the tool page on its own
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    assert results.violations_count == 0, results.generate_report()
    overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, "page scrolls sideways at this width"


def test_dev_platform_page_passes_axe(page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(live_server + "/dev/")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    assert results.violations_count == 0, results.generate_report()
