"""The workflow pages in a real browser: keyboard-reachable, axe-clean, usable at 320 px."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_dev_platform import launch_in_iframe

AXE_TAGS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def axe_clean(page, width):
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": width, "height": 900})
    results = Axe().run(page, options=AXE_TAGS)
    assert results.violations_count == 0, results.generate_report()
    assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")


def open_tool_page(page, live_server, button, heading):
    launch_in_iframe(page, live_server, button, heading)
    url = page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href")
    page.goto(url)


@pytest.mark.parametrize("width", [320, 1000])
def test_learner_home_and_intake(page, live_server, width):
    open_tool_page(page, live_server, "Launch as learner Ana", "Welcome, Ana Costa")
    spring = page.locator("li.card", has_text="Spring lab")  # Ana is also in the demo's held Winter lab
    assert spring.get_by_text("Your partner").is_visible()
    axe_clean(page, width)
    spring.get_by_role("link", name="See your intake").click()
    page.get_by_role("heading", level=1, name="Your intake for Spring lab").wait_for()
    axe_clean(page, width)
    screenshot(page, f"learner-intake-{width}")


@pytest.mark.parametrize("width", [320, 1000])
def test_facilitator_cohort_and_matching_review(page, live_server, width):
    open_tool_page(page, live_server, "Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
    page.get_by_role("link", name="Spring lab").click()
    page.get_by_role("heading", level=1, name="Spring lab").wait_for()
    axe_clean(page, width)
    screenshot(page, f"facilitator-cohort-{width}")
    page.get_by_role("button", name="Propose teams").click()
    page.get_by_role("heading", name="Proposed teams").or_(page.get_by_text("Proposed teams")).first.wait_for()
    axe_clean(page, width)
    screenshot(page, f"facilitator-proposal-{width}")


def test_new_cohort_form_with_keyboard_only(page, live_server):
    open_tool_page(page, live_server, "Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
    page.get_by_role("link", name="New cohort").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name="New cohort").wait_for()
    page.get_by_label("Cohort name").focus()
    page.keyboard.type("Keyboard lab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # a blank date: the form must say what is wrong
    page.get_by_role("button", name="Save cohort").press("Enter")
    page.get_by_role("alert").wait_for()
    assert page.get_by_label("Cohort name").input_value() == "Keyboard lab"
    axe_clean(page, 1000)


@pytest.mark.parametrize("width", [320, 1000])
def test_run_of_show_timer_and_attendance(page, live_server, width):
    open_tool_page(page, live_server, "Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
    page.get_by_role("link", name="Spring lab").click()
    page.get_by_role("link", name="Open the run-of-show (current session, timer, attendance)").click()
    page.get_by_role("status").filter(has_text="Up next").wait_for()
    axe_clean(page, width)
    timer = page.locator("#timer")
    before = timer.inner_text()
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("(b) => document.getElementById('timer').textContent !== b", arg=before, timeout=5000)
    page.get_by_role("button", name="Pause").click()
    screenshot(page, f"facilitator-run-of-show-{width}")
    page.get_by_role("link", name="Take attendance for this session").click()
    page.get_by_role("heading", level=1).filter(has_text="Attendance:").wait_for()
    axe_clean(page, width)
    # The seeded lab is ahead: attendance is refused until the session starts, and the page says from when.
    page.get_by_text("This has not started yet").wait_for()
    assert page.get_by_role("button", name="Save attendance").count() == 0
    axe_clean(page, width)
    screenshot(page, f"facilitator-attendance-{width}")


def test_remove_confirmation_page(page, live_server):
    open_tool_page(page, live_server, "Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
    page.get_by_role("link", name="Summer lab").click()
    page.get_by_role("link", name="Remove Hugo Silva").click()
    page.get_by_role("heading", level=1, name="Remove Hugo Silva from Summer lab?").wait_for()
    axe_clean(page, 320)
    page.get_by_role("link", name="Cancel").click()  # nothing removed
    page.get_by_role("heading", level=1, name="Summer lab").wait_for()


@pytest.mark.parametrize("width", [390, 1280])
def test_cohort_path_teams_messages_and_progress(page, live_server, width):
    """The cohort as steps, the published teams, the messages and progress: axe-clean, and the progress table
    fits the screen at 1280 px (no column off to the side)."""
    open_tool_page(page, live_server, "Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
    assert page.get_by_role("cell", name=re.compile(r"Step \d of 5")).first.is_visible()
    axe_clean(page, width)
    screenshot(page, f"facilitator-home-{width}")
    page.get_by_role("link", name="Spring lab").click()
    page.get_by_role("heading", level=1, name="Spring lab").wait_for()
    steps = page.get_by_role("navigation", name="Steps of this cohort")
    assert steps.get_by_role("listitem").count() == 5
    axe_clean(page, width)
    screenshot(page, f"facilitator-cohort-path-{width}")
    page.get_by_role("link", name="See and search the teams").click()
    page.get_by_role("heading", level=1, name="Teams: Spring lab").wait_for()
    page.get_by_label("Find a person (name, email, department or location)").fill("Ana")
    page.get_by_role("button", name="Search").click()
    page.get_by_text(re.compile(r"1 of \d+ teams")).wait_for()
    axe_clean(page, width)
    screenshot(page, f"facilitator-teams-{width}")
    cohort = page.url.split("/teams")[0]
    page.goto(cohort + "/messages")  # the demo has sent nothing yet: the cohort page says so, without a link
    page.get_by_role("heading", level=1, name="Messages: Spring lab").wait_for()
    axe_clean(page, width)
    page.goto(cohort)
    page.get_by_role("link", name="Progress, gradebook and reflections").click()
    page.get_by_role("heading", level=1, name="Progress: Spring lab").wait_for()
    axe_clean(page, width)
    if width == 1280:
        assert page.locator(".table-wrap").evaluate("(el) => el.scrollWidth <= el.clientWidth + 1")
        assert page.get_by_role("columnheader", name="LMS gradebook received").is_visible()
    screenshot(page, f"facilitator-progress-{width}")
