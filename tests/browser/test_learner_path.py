"""A learner's whole path and the L&D overview, in English and German, in a real browser.

The learner launches in her language, fills the intake in steps with the keyboard only, opens her partner
page, writes a half-day reflection, reads "Your data", downloads it (JSON) and deletes it (a danger button,
then a confirmation). L&D sees the overview with the small-group rule at MIN_GROUP_SIZE (5). Every page is
axe clean and does not scroll sideways at 1280 and 390 px; screenshots go to test-artifacts/.
"""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from config.settings import DevelopmentConfig
from tests.browser.conftest import screenshot, serve_demo
from tests.browser.test_languages import launch_as
from tests.browser.test_learner_intake_steps import Keyboard
from tests.browser.test_workflow_pages import axe_clean

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
LANGUAGES = {"en": "English", "de": "Deutsch"}
# Each language's learner: one whose Summer lab intake is emptied and whose data is deleted at the end, on a
# server of this module's own, so no other test loses a demo person.
# Partners of different teams, so the second still has a partner when the first has deleted her data.
LEARNERS = {"en": ("Chloé", "Chloé Martin", "dev-chloe"), "de": ("Hugo", "Hugo Silva", "dev-hugo")}


@cache
def catalogue(language: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    if language == "en":
        return {}
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return {m.id: m.string for m in read_po(po) if isinstance(m.id, str) and m.string and not m.fuzzy}


def t(language: str, text: str, **values) -> str:
    """``text`` as the page shows it in ``language`` (the English text where no translation exists yet)."""
    return catalogue(language).get(text, text) % values if values else catalogue(language).get(text, text)


def _empty_summer_intakes(app):
    """The path's learners have not started their Summer lab intake."""
    from lti_tool.extensions import db
    from lti_tool.models import Cohort, LtiUser, Participant

    summer = db.session.execute(db.select(Cohort).where(Cohort.slug == "summer-lab")).scalar_one()
    subs = [sub for _first, _name, sub in LEARNERS.values()]
    rows = db.session.execute(db.select(Participant).join(LtiUser, LtiUser.id == Participant.user_id)
                              .where(Participant.cohort_id == summer.id, LtiUser.sub.in_(subs))).scalars()
    for p in rows:
        p.gender = p.department = p.location = p.timezone = p.level = p.goals = None
        p.offers, p.wants, p.availability, p.visible_fields, p.consent = [], [], [], [], False
        p.intake_updated_at = p.intake_submitted_at = None
    db.session.commit()
    return summer.id


@pytest.fixture(scope="module")
def own_lab(tmp_path_factory):
    yield from serve_demo(tmp_path_factory, _empty_summer_intakes)


def open_tool(page, base, language, button, heading):
    """Launch through /dev/ in ``language`` into the iframe, then open the tool page on its own."""
    launch_as(page, base, LANGUAGES[language], button, heading)
    page.goto(page.frame_locator("iframe.lti-frame").locator("body").evaluate("() => location.href"))
    page.get_by_role("heading", level=1, name=heading).wait_for()
    assert page.locator("html").get_attribute("lang") == language


# Pages another test already runs axe on at 1280 and 390 px in that language (an axe run takes seconds):
# test_learner_intake_steps (English intake steps and partner page), test_languages (German home and intake).
AXE_ELSEWHERE = {("en", "intake"), ("en", "partner"), ("de", "home"), ("de", "intake")}


def both_widths(page, language, name):
    """axe clean and no sideways scroll at 390 and 1280 px, with a screenshot at each width."""
    for width in (390, 1280):
        if (language, name) in AXE_ELSEWHERE:
            page.set_viewport_size({"width": width, "height": 900})
            assert not page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
        else:
            axe_clean(page, width)
        screenshot(page, f"path-{language}-{name}-{width}")


def heading(page, text):
    page.get_by_role("heading", level=1, name=text).wait_for()


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_learners_whole_path(browser, own_lab, language):
    base, _summer = own_lab
    first, name, _sub = LEARNERS[language]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Europe/Paris",
                                  accept_downloads=True)
    page = context.new_page()
    try:
        welcome = t(language, "Welcome, %(name)s", name=name)
        open_tool(page, base, language, f"Launch as learner {first}", welcome)
        both_widths(page, language, "home")

        # the intake, in steps, with the keyboard only
        summer = page.locator("li.card", has_text="Summer lab")
        summer.get_by_role("link", name=t(language, "Fill in your intake")).click()
        page.get_by_role("button", name=t(language, "Next"), exact=True).first.wait_for()  # steps set up
        assert page.locator("#step-offer-heading").is_hidden()  # one step at a time
        assert page.locator("#step-about-heading").inner_text() == t(language, "About you")
        both_widths(page, language, "intake")
        keys = Keyboard(page)

        def next_step(step):
            keys.tab_to(page.get_by_role("button", name=t(language, "Next"), exact=True).locator("visible=true"))
            keys.press("Enter")
            page.locator(f"#step-{step}-heading").wait_for()
            assert page.evaluate("() => document.activeElement.id") == f"step-{step}-heading"

        keys.tick(page.locator("input[name=gender][value=woman]"))
        keys.tab_to(page.locator("#department"))
        keys.type("Marketing EMEA")
        keys.tab_to(page.locator("#location"))
        keys.type("Paris")
        keys.tab_to(page.locator("input[name=level]").first)
        keys.press("ArrowDown")
        next_step("offer")
        keys.tick(page.locator("#offers input[type=checkbox]").nth(0))
        keys.tick(page.locator("#offers input[type=checkbox]").nth(1))
        next_step("learn")
        keys.tick(page.locator("#wants input[type=checkbox]").nth(2))
        next_step("free")
        assert page.locator("#timezone").input_value() == "Europe/Paris"  # the device's zone, offered
        keys.tick(page.locator("input[name=availability][value=wed-09]"))
        keys.tick(page.locator("input[name=availability][value=thu-13]"))
        next_step("review")
        assert "Marketing EMEA" in page.locator("#review-summary").inner_text()
        keys.tick(page.locator("#consent"))
        both_widths(page, language, "intake-review")
        keys.tab_to(page.locator("#submit_intake"))
        keys.press("Enter")
        page.get_by_text(t(language, "Thank you: your intake is submitted. You can still change it until teams are "
                                     "published.")).wait_for()
        assert keys.actions <= 25

        # the partner page (Spring lab is matched and published)
        page.goto(f"{base}/learner/")
        heading(page, welcome)
        spring = page.locator("li.card", has_text="Spring lab")
        spring.get_by_role("link", name=t(language, "Contact, shared free hours and what you give each other")).click()
        heading(page, t(language, "Your partner"))
        assert page.get_by_role("heading", level=2, name=t(language, "What to do next")).is_visible()
        assert page.locator("main a[href^='mailto:']").count() >= 1
        both_widths(page, language, "partner")

        # a half-day reflection of the Winter lab, held two weeks ago (the first morning is written already)
        page.goto(f"{base}/learner/")
        winter = page.locator("li.card", has_text="Winter lab")
        winter.get_by_role("link", name=t(language, "Write your reflection")).click()  # the next step
        page.locator("#reflection-form").wait_for()
        both_widths(page, language, "reflection")
        for answer in page.locator("#reflection-form textarea").all():
            answer.fill("We practised giving feedback on a real slide deck.")
        for rating in page.locator("#reflection-form fieldset.radios:not(.visibility)").all():
            rating.locator("input[type=radio][value='4']").check()
        page.get_by_role("button", name=t(language, "Submit reflection")).click()
        page.get_by_text(t(language, "Reflection submitted.")).wait_for()

        # "Your data": who sees what, the download, then deleting (a danger button and a confirmation)
        page.goto(f"{base}/learner/")
        page.get_by_role("link", name=t(language, "Your data and privacy")).first.click()
        heading(page, t(language, "Your data"))
        assert page.get_by_text("Marketing EMEA").first.is_visible()
        both_widths(page, language, "my-data")
        with page.expect_download() as download:
            page.get_by_role("link", name=t(language, "Download your data as a file (JSON)")).click()
        assert download.value.suggested_filename == "my-mentoring-lab-data.json"
        exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        text = json.dumps(exported, ensure_ascii=False)
        assert name in text and "Marketing EMEA" in text
        assert "We practised giving feedback on a real slide deck." in text

        delete = page.get_by_role("link", name=t(language, "Delete my data…"))
        assert "danger" in delete.get_attribute("class")
        delete.click()
        heading(page, t(language, "Delete my data"))
        both_widths(page, language, "delete")
        confirm = page.get_by_role("button", name=re.compile(re.escape(t(language, "Delete my data")) + "$"))
        assert "danger" in confirm.get_attribute("class")
        confirm.click()  # without ticking the box: nothing is deleted
        page.get_by_text(t(language, "Tick the box to confirm you want your data deleted.")).wait_for()
        page.get_by_label(t(language, "I understand; delete my data")).check()
        page.get_by_role("button", name=re.compile(re.escape(t(language, "Delete my data")) + "$")).click()
        heading(page, t(language, "Your data was deleted"))
        both_widths(page, language, "deleted")
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_lnd_overview_with_small_groups_hidden(page, live_server, language, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_tool(page, live_server, language, "Launch as L&D administrator Lee",
              t(language, "Lab cohorts across your organisation"))
    minimum = DevelopmentConfig.MIN_GROUP_SIZE  # the live server's configuration
    assert minimum == 5
    intro = t(language, "Across the lab cohorts of your organisation. No individual answer is shown: only totals. "
                        "A figure that fewer than %(n)s people answered says “not shown”, and so does any figure "
                        "that would let such a group be worked out from the others, here and in the downloads.",
              n=minimum)
    assert page.get_by_text(intro).is_visible()
    hidden = page.locator("main .suppressed")
    assert hidden.count() >= 1 and hidden.first.inner_text() == t(language, "not shown")
    # the funnel chart holds the same figure back, in the same words as its table
    assert page.locator("svg:has(#funnel-chart-title) text", has_text=re.compile("^" + t(language, "not shown") + "$")).count() >= 1
    # every count of people the funnel shows stands for no one or at least MIN_GROUP_SIZE people
    # the tables, charts and headline speak the page's language too: captions, stages, column heads
    funnel = page.locator("#table-funnel")
    assert funnel.get_by_role("rowheader", name=t(language, "Held at least one follow-up meeting")).is_visible()
    assert funnel.locator("caption").inner_text() == t(language, "From enrolment to follow-up")
    assert page.locator("dl.headline").get_by_text(t(language, "People enrolled")).is_visible()
    if language != "en":
        main = page.locator("main").inner_text()
        assert not [w for w in ("Matched with a partner", "By cohort", "Score band", "Share of those enrolled")
                    if w in main]
    counts = page.locator("#table-funnel td").all_inner_texts()
    shown = [int(c) for c in counts if c.strip().isdigit()]
    assert shown and all(n == 0 or n >= minimum for n in shown), shown
    axe_clean(page, width)
    screenshot(page, f"path-{language}-lnd-overview-{width}")
