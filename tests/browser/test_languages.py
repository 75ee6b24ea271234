"""The lab in German and French in a real browser: the development platform's launch language, the
browser's language when the LMS sends none, and a German learner's pages at desktop and phone widths."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_learner_pages import check_axe

LANGUAGE = "Language the LMS sends with each launch"


def launch_learner(page, live_server, language: str, learner: str, heading: str):
    """Choose the launch language on /dev/, launch ``learner`` into the iframe, wait for ``heading``."""
    return launch_as(page, live_server, language, f"Launch as learner {learner}", heading)


def launch_as(page, live_server, language: str, button: str, heading: str):
    """Choose the launch language on /dev/, press the launch link ``button``, wait for ``heading`` in the iframe."""
    page.goto(live_server + "/dev/")
    page.get_by_label(LANGUAGE).select_option(label=language)
    page.get_by_role("button", name="Use this language").click()
    page.get_by_role("link", name=button).click()
    frame = page.frame_locator("iframe.lti-frame")
    frame.get_by_role("heading", level=1, name=heading).wait_for(timeout=15000)
    return frame


def html_lang(frame) -> str:
    return frame.locator("html").get_attribute("lang")


@pytest.fixture
def french_browser(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="fr-FR")
    yield context.new_page()
    context.close()


def test_the_dev_platform_keeps_the_chosen_language_for_every_launch(page, live_server):
    page.goto(live_server + "/dev/")
    assert page.get_by_label(LANGUAGE).input_value() == ""  # by default the LMS sends no language
    page.get_by_label(LANGUAGE).select_option(label="Français")
    page.get_by_role("button", name="Use this language").click()
    assert page.get_by_label(LANGUAGE).input_value() == "fr"
    launches = page.get_by_role("link", name="Launch as")
    assert launches.count() >= 3
    assert all(href.endswith("locale=fr") for href in (a.get_attribute("href") for a in launches.all()))


def test_the_dev_platform_launches_in_the_chosen_language(page, live_server):
    frame = launch_learner(page, live_server, "Deutsch", "Ana", "Willkommen, Ana Costa")
    assert html_lang(frame) == "de"


def test_without_a_launch_language_the_lab_follows_the_browser(french_browser, live_server):
    french_browser.goto(live_server + "/dev/course/ana")  # the learner's launch link, no language chosen
    frame = french_browser.frame_locator("iframe.lti-frame")
    frame.get_by_role("heading", level=1, name="Bienvenue, Ana Costa").wait_for(timeout=15000)
    assert html_lang(frame) == "fr"


def test_a_launch_language_comes_before_the_browsers(french_browser, live_server):
    french_browser.goto(live_server + "/dev/?locale=en")
    french_browser.goto(live_server + "/dev/course/ana?locale=en")  # what the link is once English is chosen
    frame = french_browser.frame_locator("iframe.lti-frame")
    frame.get_by_role("heading", level=1, name="Welcome, Ana Costa").wait_for(timeout=15000)
    assert html_lang(frame) == "en"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_german_learners_home_and_intake(page, live_server, width):
    """Hugo, launched in German: his home page and his intake form, in German, axe clean, no sideways scroll."""
    launch_learner(page, live_server, "Deutsch", "Hugo", "Willkommen, Hugo Silva")
    page.goto(page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href"))
    page.set_viewport_size({"width": width, "height": 900})
    pages = [("home", "Willkommen, Hugo Silva", "Fragebogen bearbeiten"),
             ("intake", "Ihr Fragebogen für Summer lab", "Weiter")]  # the intake opens on its first step
    for name, heading, action in pages:
        page.get_by_role("heading", level=1, name=heading).wait_for()
        assert page.locator("html").get_attribute("lang") == "de"
        # waited for: the intake's first step is shown by its script once the page has loaded
        page.get_by_role("link", name=action).or_(page.get_by_role("button", name=action)).first.wait_for(
            state="visible", timeout=10000)
        assert page.get_by_text("to other participants").count() == 0  # no English left in the intake's macros
        check_axe(page, f"{name} (de, {width} px)")
        assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth"), \
            f"{name} scrolls sideways at {width} px"
        screenshot(page, f"learner-de-{name}-{width}")
        if name == "home":
            page.get_by_role("link", name="Fragebogen bearbeiten").first.click()
