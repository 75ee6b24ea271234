"""A half-day reflection draft survives a dropped connection; the reflection form and insights pass axe."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_dev_platform import launch_in_iframe

AXE_TAGS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def open_reflection_form(page, live_server, half_day="Day one, morning"):
    launch_in_iframe(page, live_server, "Launch as learner Ana", "Welcome, Ana Costa")
    frame_url = page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href")
    page.goto(frame_url)
    # the demo's Winter lab was held two weeks ago: its half-day reflections are open
    page.locator("li.card", has_text="Winter lab").get_by_role("link", name="Write or edit your reflections").click()
    page.get_by_role("link", name=half_day).click()
    page.get_by_role("heading", level=1, name=f"Reflection: {half_day}").wait_for()
    return page.url


def test_draft_survives_a_dropped_connection(page, live_server):
    form_url = open_reflection_form(page, live_server)
    answer = page.get_by_role("group", name="The most unexpected thing my partner knows").get_by_label("Your answer")
    status = page.locator("#save-status")

    page.context.set_offline(True)
    answer.fill("Typed while the train went into a tunnel")
    status.get_by_text("Saved on this device, will send when online").wait_for(timeout=5000)
    page.context.set_offline(False)  # the connection is back: the browser sends the kept draft
    status.get_by_text("Saved", exact=True).wait_for(timeout=5000)
    page.evaluate("() => localStorage.clear()")  # what comes back now can only come from the server
    page.reload()
    assert answer.input_value() == "Typed while the train went into a tunnel"

    # the connection drops while sending (requests fail), then the form is opened again later
    page.route("**/draft", lambda route: route.abort("internetdisconnected"))
    answer.fill("Second thought, written offline")
    status.get_by_text("Saved on this device, will send when online").wait_for(timeout=5000)
    page.unroute("**/draft")
    page.goto(form_url)  # restored from the device and sent
    assert answer.input_value() == "Second thought, written offline"
    status.get_by_text("Saved", exact=True).wait_for(timeout=5000)
    page.evaluate("() => localStorage.clear()")
    page.reload()
    assert answer.input_value() == "Second thought, written offline"


def test_an_answer_typed_before_the_draft_script_runs_is_kept(page, live_server):
    """On a slow connection the form shows before its script has run; what is typed meanwhile is still saved."""
    held = []
    page.route("**/static/reflection-drafts.js", lambda route: held.append(route))
    open_reflection_form(page, live_server, "Day two, morning")
    answer = page.get_by_label("Your answer").first
    answer.fill("Written while the page was still loading")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/static/reflection-drafts.js")
    page.locator("#save-status").get_by_text("Saved", exact=True).wait_for(timeout=5000)
    page.evaluate("() => localStorage.clear()")  # what comes back now can only come from the server
    page.reload()
    assert answer.input_value() == "Written while the page was still loading"


@pytest.mark.parametrize("width", [1280, 390])
def test_half_day_reflection_list_and_form_pass_axe(page, live_server, width):
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": width, "height": 900})
    open_reflection_form(page, live_server)
    assert page.locator("textarea").count() == 1  # one short reflection: one text prompt and two ratings
    results = Axe().run(page, options=AXE_TAGS)
    assert results.violations_count == 0, results.generate_report()
    screenshot(page, f"reflection-half-day-form-{width}")
    page.get_by_role("link", name="Back to all reflections").click()
    page.get_by_role("heading", level=1, name="Reflections: Winter lab").wait_for()
    assert page.get_by_role("link", name="Day two, afternoon").is_visible()  # the whole lab has happened
    status = page.get_by_text("Not started").first.bounding_box()
    assert status["x"] + status["width"] <= width  # the status is on screen, not scrolled away
    results = Axe().run(page, options=AXE_TAGS)
    assert results.violations_count == 0, results.generate_report()
    screenshot(page, f"reflection-half-days-{width}")


def test_insights_page_passes_axe(page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    launch_in_iframe(page, live_server, "Launch as L&D administrator Lee", "Lab cohorts across your organisation")
    frame_url = page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href")
    page.goto(frame_url)
    assert page.locator("svg[role=img]").count() >= 3
    results = Axe().run(page, options=AXE_TAGS)
    assert results.violations_count == 0, results.generate_report()
