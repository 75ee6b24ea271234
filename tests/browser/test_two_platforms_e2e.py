"""End to end in Chromium: two courses on two LMS platforms, each with its facilitator and learners.

Everyone arrives through the full LTI 1.3 flow (the LMS page starts the OIDC login, the LMS signs the
id_token, the browser posts it to the tool). Learners fill their intake, browse and request a partner;
each facilitator syncs the roster from the LMS (NRPS), proposes teams, swaps one, and publishes; every
learner then sees their partner and the reasons. A screenshot of each step lands in test-artifacts/.
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import add_learner, fill_intake, open_from_lms, register_lms, screenshot, serve_tool

# Per platform: two women who offer negotiation and want data analysis, two men the other way round,
# so every woman-man team is good and swapping partners keeps the run feasible.
COURSES = {
    "north": {"title": "North Corp: Reciprocal Mentoring", "cohort": "spring-lab", "learners": [
        ("n-ana", "Ana North", "Woman", "Sales", "Negotiation", "Data analysis"),
        ("n-bea", "Bea North", "Woman", "Finance", "Negotiation", "Data analysis"),
        ("n-carl", "Carl North", "Man", "Engineering", "Data analysis", "Negotiation"),
        ("n-dev", "Dev North", "Man", "Operations", "Data analysis", "Negotiation")]},
    "south": {"title": "South Ltd: Reciprocal Mentoring", "cohort": "autumn-lab", "learners": [
        ("s-eva", "Eva South", "Woman", "Legal", "Public speaking", "Strategy"),
        ("s-fia", "Fia South", "Woman", "Marketing", "Public speaking", "Strategy"),
        ("s-gus", "Gus South", "Man", "Finance", "Strategy", "Public speaking"),
        ("s-hal", "Hal South", "Man", "Sales", "Strategy", "Public speaking")]},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, chromium_path):
    """The tool on a loopback port (own SQLite database) and two registered test LMSs with courses."""
    app, tool, server = serve_tool(tmp_path_factory.mktemp("e2e"))
    platforms = {}
    for key, course in COURSES.items():
        lms = register_lms(app, key, course["title"])
        for sub, name, *_ in course["learners"]:
            add_learner(lms, sub, name, f"{sub}@{key}.example")
        platforms[key] = lms
    yield tool, platforms
    for lms in platforms.values():
        lms.close()
    server.shutdown()


def test_two_platforms_from_intake_to_published_teams(browser, world):
    tool, platforms = world
    for key, course in COURSES.items():
        lms = platforms[key]
        cohort_name = course["cohort"].replace("-", " ").capitalize()
        learners = course["learners"]
        # 1. Learners launch, fill their intake, browse and request a partner.
        for index, (sub, name, gender, dept, offers, wants) in enumerate(learners):
            page = open_from_lms(browser, tool, lms, key, course["cohort"], sub, f"Welcome, {name}")
            if index == 0:
                screenshot(page, f"e2e-{key}-1-learner-home")
            fill_intake(page, gender, dept, offers, wants)
            page.get_by_role("heading", level=1, name=f"People in {cohort_name}").wait_for()
            if index == len(learners) - 1:  # everyone else is in by now: browse them all
                screenshot(page, f"e2e-{key}-2-browse")
                wish = learners[0][1]  # the first woman of this course
                page.get_by_role("button", name=f"Request {wish} as partner").click()
                page.get_by_text("Partner requested.").wait_for()
                screenshot(page, f"e2e-{key}-3-requested")
            page.context.close()

        # 2. The facilitator syncs the roster, proposes, swaps one team and publishes.
        page = open_from_lms(browser, tool, lms, key, course["cohort"], f"{key}-teacher", f"Cohorts in {course['title']}")
        assert "North" not in page.content() if key == "south" else "South" not in page.content()
        page.get_by_role("link", name=cohort_name).click()
        page.get_by_role("button", name="Sync learners from the LMS").click()
        page.get_by_text("Roster synchronised with the LMS.").wait_for()
        page.get_by_text("4 of 4 people have submitted").wait_for()
        screenshot(page, f"e2e-{key}-4-roster")
        page.get_by_role("button", name="Propose teams").click()
        page.get_by_text("Proposed teams").wait_for()
        screenshot(page, f"e2e-{key}-5-proposal")
        women = [row for row in learners if row[2] == "Woman"]
        page.get_by_label("First person").select_option(label=women[0][1])
        page.get_by_label("Second person").select_option(label=women[1][1])
        page.get_by_role("button", name="Swap their partners").click()
        page.get_by_text("Proposed teams").wait_for()
        body = page.locator("main").inner_text()
        assert "could not run" not in body
        screenshot(page, f"e2e-{key}-6-after-swap")
        partner_of = {}
        for header in page.locator("table:has(caption:has-text('Proposed teams')) tbody th[scope=row]").all_inner_texts():
            a, b = (part.replace("new", "").strip() for part in header.split(" & ")[:2])
            partner_of[a], partner_of[b] = b, a
        assert partner_of[women[0][1]] != partner_of[women[1][1]] and len(partner_of) == 4
        page.get_by_role("link", name="Publish these teams").click()  # a preview first: what each person receives
        page.get_by_role("heading", level=1, name="Check before publishing").wait_for()
        page.get_by_role("button", name="Confirm: publish").click()
        page.locator(".flash-success").filter(has_text="teams published").wait_for()
        screenshot(page, f"e2e-{key}-7-published")
        page.context.close()

        # 3. Every learner sees their partner and why.
        for sub, name, *_ in learners:
            page = open_from_lms(browser, tool, lms, key, course["cohort"], sub, f"Welcome, {name}")
            page.get_by_text("Your partner").wait_for()
            text = page.locator("main").inner_text()
            assert partner_of[name] in text, (name, partner_of, text)
            assert "Why you were matched" in text and "wants to learn" in text
            if sub == learners[0][0]:
                screenshot(page, f"e2e-{key}-8-learner-partner")
            page.context.close()
