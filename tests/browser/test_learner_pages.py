"""A demo learner in a real browser: intake with the keyboard, autosave, submit, browse, request; axe."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_dev_platform import launch_in_iframe

AXE_TAGS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def tool_page(page, live_server, learner="Ana", heading="Welcome, Ana Costa"):
    """Launch through /dev/ inside the iframe, then open the tool page on its own (same session)."""
    launch_in_iframe(page, live_server, f"Launch as learner {learner}", heading)
    url = page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href")
    page.goto(url)
    return url


def check_axe(page, name):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_TAGS)
    assert results.violations_count == 0, f"{name}: " + results.generate_report()


def test_learner_intake_browse_and_request(page, live_server):
    tool_page(page, live_server, "Hugo", "Welcome, Hugo Silva")
    page.get_by_role("link", name="Edit your intake").first.click()
    page.get_by_role("heading", level=1, name="Your intake for Summer lab").wait_for()
    # keyboard: focus the department field, replace its text, tab on
    page.get_by_label("Department", exact=True).focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("Sales EMEA")
    page.keyboard.press("Tab")
    page.get_by_role("status").filter(has_text="Saved").wait_for(timeout=10000)
    # self-described text appears only when chosen
    assert page.get_by_label("Your gender in your own words").is_hidden()
    page.get_by_label("I describe myself as…").check()
    page.get_by_label("Your gender in your own words").fill("man, mostly")
    page.get_by_role("button", name="Next", exact=True).locator("visible=true").click()
    page.locator("#offers").get_by_label("Negotiation").press("Space")
    assert page.locator("#offers-ranked li .skill").all_inner_texts() == ["Sales", "Customer insight", "Negotiation"]
    page.get_by_role("link", name="When you are free").click()
    page.get_by_label("Wednesday 10:00").check()
    screenshot(page, "learner-intake")
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit intake").click()
    page.get_by_role("heading", level=1, name="People in Summer lab").wait_for()
    assert page.get_by_text("Thank you: your intake is submitted.").is_visible()
    page.get_by_label("Skill").select_option("Leadership")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("heading", level=3, name="Grace Wu").wait_for()
    assert page.get_by_text("You could learn: Leadership").first.is_visible()
    page.get_by_role("button", name="Request Grace Wu as partner").click()
    page.get_by_text("Partner requested.").wait_for()
    assert page.get_by_text("Partners requested: 1 of 3.").is_visible()
    screenshot(page, "learner-browse-requested")
    page.get_by_role("button", name="Undo request for Grace Wu").click()
    page.get_by_text("Undone.").wait_for()


def test_an_answer_typed_before_the_intake_script_runs_is_autosaved(page, live_server):
    """On a slow connection the form shows before its script has run; what is typed meanwhile is still saved."""
    tool_page(page, live_server, "Ben", "Welcome, Ben Okafor")
    held = []
    page.route("**/static/intake.js", lambda route: held.append(route))  # the script's request waits until the answer is typed
    page.get_by_role("link", name="Edit your intake").first.click()
    page.get_by_label("Department", exact=True).fill("Platform engineering")
    page.keyboard.press("Tab")
    assert len(held) == 1 and page.evaluate("() => !document.getElementById('autosave-status').textContent")
    held[0].continue_()
    page.unroute("**/static/intake.js")
    page.get_by_role("status").filter(has_text="Saved").wait_for(timeout=10000)
    autosaves = []
    page.on("request", lambda request: request.method == "POST" and autosaves.append(request.url))
    page.reload()
    assert page.get_by_label("Department", exact=True).input_value() == "Platform engineering"
    page.wait_for_timeout(2500)  # longer than the autosave's pause: opening the page untouched saves nothing
    assert autosaves == []


@pytest.mark.parametrize("width", [1000, 320])
@pytest.mark.parametrize("path_name", ["home", "intake", "people"])
def test_learner_pages_pass_axe(page, live_server, width, path_name):
    tool_page(page, live_server, "Chloé", "Welcome, Chloé Martin")
    if path_name != "home":
        link = {"intake": "Edit your intake", "people": "Browse people and request partners"}[path_name]
        page.get_by_role("link", name=link).first.click()
        page.wait_for_load_state()
    page.set_viewport_size({"width": width, "height": 800})
    check_axe(page, f"{path_name} at {width}px")
    overflow = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow, f"{path_name} scrolls sideways at {width}px"
    screenshot(page, f"learner-{path_name}-{width}")


def test_intake_errors_are_tied_to_fields_and_pass_axe(page, live_server):
    tool_page(page, live_server, "Dev", "Welcome, Dev Raman")
    page.get_by_role("link", name="Edit your intake").first.click()
    page.get_by_label("Department", exact=True).fill("")
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("checkbox", name="I agree").uncheck()
    page.get_by_role("button", name="Submit intake").click()
    summary = page.get_by_role("alert")
    summary.get_by_role("link", name="Department").wait_for()
    assert page.get_by_label("Department", exact=True).get_attribute("aria-invalid") == "true"
    assert "Enter your department." in page.locator("#department-error").inner_text()
    summary.get_by_role("link", name="Department").click()
    assert page.evaluate("() => location.hash") == "#department"
    check_axe(page, "intake with errors")
    page.set_viewport_size({"width": 320, "height": 800})
    check_axe(page, "intake with errors at 320px")
    screenshot(page, "learner-intake-errors-320")
