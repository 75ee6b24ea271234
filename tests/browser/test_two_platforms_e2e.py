"""End to end in Chromium: two courses on two LMS platforms, each with its facilitator and learners.

Everyone arrives through the full LTI 1.3 flow (the LMS page starts the OIDC login, the LMS signs the
id_token, the browser posts it to the tool). Learners fill their intake, browse and request a partner;
each facilitator syncs the roster from the LMS (NRPS), proposes teams, swaps one, and publishes; every
learner then sees their partner and the reasons. A screenshot of each step lands in test-artifacts/.
"""
from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import screenshot
from tests.lti_platform import TestPlatform

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
    from flask_migrate import upgrade

    from lti_tool import create_app
    from lti_tool.lti.registration import save_platform

    instance = tmp_path_factory.mktemp("e2e")
    app = create_app("config.settings.DevelopmentConfig", SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'e2e.sqlite3'}",
                     LTI_DEV_PLATFORM=False, PUBLIC_BASE_URL=None, OUTBOX_DIR=str(instance / "outbox"), REDIS_URL=None)
    app.instance_path = str(instance)
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    tool = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    platforms = {}
    for key, course in COURSES.items():
        lms = TestPlatform(client_id=f"client-{key}", deployment_id=f"deploy-{key}")
        lms.course_title = course["title"]
        lms.users[f"{key}-teacher"] = {"sub": f"{key}-teacher", "role": "instructor", "name": f"Fac {key.title()}",
                                       "email": f"fac@{key}.example"}
        for sub, name, *_ in course["learners"]:
            lms.users[sub] = {"sub": sub, "role": "learner", "name": name, "email": f"{sub}@{key}.example"}
            lms.members.append({"user_id": sub, "name": name, "email": f"{sub}@{key}.example", "status": "Active",
                                "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]})
        with app.app_context():
            save_platform(**lms.registration_args())
        platforms[key] = lms
    yield tool, platforms
    for lms in platforms.values():
        lms.close()
    server.shutdown()


def open_from_lms(browser, tool, lms, course_key, user, heading):
    """A fresh browser (own cookies) clicks the lab in the LMS course and lands in the tool."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    query = urlencode({"user": user, "tool": tool, "cohort": COURSES[course_key]["cohort"]})
    page.goto(f"{lms.issuer}/course/{course_key}-101/open?{query}")
    page.get_by_role("heading", level=1, name=heading).wait_for(timeout=15000)
    return page


def fill_intake(page, gender, department, offers, wants):
    page.get_by_role("link", name="Fill in your intake").first.click()
    page.get_by_label(gender, exact=True).check()
    page.get_by_label("Department", exact=True).fill(department)
    page.get_by_label("Location", exact=True).fill("Berlin office")
    page.get_by_label("3 – Team lead or senior specialist").check()
    page.get_by_role("link", name="What you offer").click()
    page.locator("#offers").get_by_label(offers, exact=True).check()
    page.get_by_role("link", name="What you want to learn").click()
    page.locator("#wants").get_by_label(wants, exact=True).check()
    page.get_by_role("link", name="When you are free").click()
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("Tuesday 10:00").check()
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Submit intake").click()
    page.get_by_text("Thank you: your intake is submitted.").wait_for()


def test_two_platforms_from_intake_to_published_teams(browser, world):
    tool, platforms = world
    for key, course in COURSES.items():
        lms = platforms[key]
        cohort_name = course["cohort"].replace("-", " ").capitalize()
        learners = course["learners"]
        # 1. Learners launch, fill their intake, browse and request a partner.
        for index, (sub, name, gender, dept, offers, wants) in enumerate(learners):
            page = open_from_lms(browser, tool, lms, key, sub, f"Welcome, {name}")
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
        page = open_from_lms(browser, tool, lms, key, f"{key}-teacher", f"Cohorts in {course['title']}")
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
        page.get_by_text("teams published").first.wait_for()
        screenshot(page, f"e2e-{key}-7-published")
        page.context.close()

        # 3. Every learner sees their partner and why.
        for sub, name, *_ in learners:
            page = open_from_lms(browser, tool, lms, key, sub, f"Welcome, {name}")
            page.get_by_text("Your partner").wait_for()
            text = page.locator("main").inner_text()
            assert partner_of[name] in text, (name, partner_of, text)
            assert "Why you were matched" in text and "wants to learn" in text
            if sub == learners[0][0]:
                screenshot(page, f"e2e-{key}-8-learner-partner")
            page.context.close()
