"""Every HTML page of the tool, for each role, passes axe-core (WCAG 2.1 AA) at 320 px and 1000 px.

The pages are found by following the demo's own links (so ids come from the seeded data), then
each is opened directly. Downloads (.ics, .csv, .eml, PDF) are not pages and are left out.
"""
from __future__ import annotations

import re

from tests.browser.test_workflow_pages import axe_clean, open_tool_page

FACILITATOR = ("Launch as facilitator Fran", "Cohorts in Leadership Academy: Reciprocal Mentoring")
LEARNER = ("Launch as learner Ana", "Welcome, Ana Costa")
LND = ("Launch as L&D administrator Lee", "Lab cohorts across your organisation")


def href(page, name: str) -> str:
    return page.get_by_role("link", name=name).first.get_attribute("href")


def check_pages(page, base: str, paths: list[str]) -> None:
    failures = []
    for path in paths:
        response = page.goto(path if path.startswith("http") else base + path)
        assert response is not None and response.status < 400, f"{path}: HTTP {response and response.status}"
        for width in (320, 1000):
            try:
                axe_clean(page, width)
            except AssertionError as e:
                failures.append(f"{path} at {width}px: {e}")
    assert not failures, "\n\n".join(failures)


def test_facilitator_pages(page, live_server):
    open_tool_page(page, live_server, *FACILITATOR)
    page.get_by_role("link", name="Spring lab").click()
    page.get_by_role("heading", level=1, name="Spring lab").wait_for()
    cohort = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0].split("#")[0]
    page.locator("details.roster-details > summary").click()  # the roster is folded once teams are published
    remove = href(page, "Remove Ben Okafor")
    proposal = page.get_by_role("link", name=re.compile(r"^(Proposal|Re-match) \d+")).first.get_attribute("href")
    page.goto(live_server + cohort + "/run-of-show")
    attendance = href(page, "Take attendance for this session")
    check_pages(page, live_server, ["/facilitator/", cohort, cohort + "/edit", "/facilitator/cohorts/new", proposal,
                                    cohort + "/progress", cohort + "/reflections", cohort + "/run-of-show",
                                    attendance, remove, cohort + "/teams", cohort + "/messages",
                                    cohort + "/progress/remind"])


def test_learner_pages(page, live_server):
    open_tool_page(page, live_server, *LEARNER)
    spring = href(page, "Write or edit your reflections").rsplit("/", 1)[0]
    held = page.locator("li.card", has_text="Winter lab").get_by_role("link", name="Write or edit your reflections")
    page.goto(live_server + held.get_attribute("href"))
    first_half_day = href(page, "Day one, morning")  # the demo's Winter lab has been held
    check_pages(page, live_server, ["/learner/", spring + "/intake", spring + "/reflections", first_half_day,
                                    spring + "/team", spring + "/partner", spring + "/withdraw", "/learner/my-data",
                                    "/learner/my-data/delete"])  # my-data.json is a download


def test_lnd_and_public_pages(page, live_server):
    open_tool_page(page, live_server, *LND)
    check_pages(page, live_server, ["/insights/", "/insights/audit", "/", "/lti/setup", "/dev/"])  # /lti/config is JSON
