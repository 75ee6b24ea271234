"""A facilitator runs a 60-person lab end to end in Chromium (issue 15, "Done means").

Sixty learners of a test LMS course (30 women, 26 men, 2 non-binary, 2 who prefer not to say) are synced
into the cohort from the LMS roster (NRPS); their intakes are filled through the service layer, not 60
browsers. The facilitator then proposes teams, tries a swap that would put someone with their manager
(refused by name, the proposal stays), pins a one-sided pair (kept and flagged), previews and publishes,
moves the lab and sends the updates, pairs a late joiner by hand, takes attendance for a half-day, and
sees which teams' follow-up meetings lapsed after one learner answered "Did you meet?".
Each main page is checked with axe and photographed at 1280 and 390 px into test-artifacts/.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.browser.conftest import add_learner, fill_intake, open_from_lms, register_lms, screenshot, serve_tool
from tests.browser.test_workflow_pages import axe_clean

COURSE, COHORT, TITLE = "big", "autumn-lab", "Big Corp: Reciprocal Mentoring"
WOMEN = ["Chloé Martin", "Amira Haddad", "Beatriz Souza", "Carla Rossi", "Dana Cohen", "Elif Yilmaz", "Fatima Ali",
         "Greta Lund", "Hana Sato", "Ines Duarte", "Julia Weber", "Kofi Mensah", "Lena Novak", "Maya Patel",
         "Nadia Petrova", "Olga Ivanova", "Priya Shah", "Qing Li", "Rosa Lopez", "Sara Berg", "Tara Singh",
         "Uma Rao", "Vera Klein", "Wen Zhou", "Ximena Diaz", "Yara Nasser", "Zoe Adams", "Anna Keller",
         "Birgit Haas", "Clara Vogel"]
MEN = ["Adam Fischer", "Ben Okafor", "Carlos Ruiz", "David Kim", "Emil Strand", "Farid Karimi", "Gustav Berg",
       "Hugo Silva", "Ivan Horvat", "Jonas Meyer", "Karim Saleh", "Luca Bianchi", "Marek Nowak", "Nils Dahl",
       "Omar Aziz", "Pavel Novak", "Rafael Costa", "Samir Gupta", "Tomas Cerny", "Umar Farooq", "Victor Hugo",
       "Wim de Vries", "Yusuf Demir", "Zoltan Nagy", "Arjun Mehta", "Bruno Alves"]
OTHERS = [("Alex Morgan", "non-binary"), ("Sam Rivera", "non-binary"), ("Robin Lee", "undisclosed"),
          ("Kai Jensen", "undisclosed")]
SKILLS = ["Negotiation", "Public speaking", "Data analysis", "Finance for non-finance people", "Coaching others",
          "Stakeholder management"]
DEPARTMENTS = ["Sales", "Finance", "Engineering", "Operations", "Legal"]
# (report, manager) by position in PEOPLE: each report's skills complement their manager's, so the matcher
# would like to pair them if the manager line did not forbid it.
MANAGER_LINES = [(1, 4), (7, 10), (31, 34)]
LATE = ("late-noor", "Noor Haddad")


def people() -> list[tuple[str, str, str]]:
    """(sub, name, gender) of the 60 learners, women and men interleaved as an LMS roster would be."""
    women = [(n, "woman") for n in WOMEN]
    men = [(n, "man") for n in MEN]
    mixed = [x for pair in zip(women, men) for x in pair] + women[len(men):] + OTHERS
    return [(f"u{i:02d}", name, gender) for i, (name, gender) in enumerate(mixed)]


def intake_values(index: int, gender: str) -> dict:
    """Realistic offers and wants: person i offers two skills and wants the two that person i+3 offers,
    so every one has complementary partners; Chloé (index 0) wants only Writing, which nobody offers."""
    offers = [SKILLS[index % 6], SKILLS[(index + 1) % 6]]
    wants = [SKILLS[(index + 3) % 6], SKILLS[(index + 4) % 6]] if index else ["Writing"]
    return {"gender": gender, "department": DEPARTMENTS[index % 5], "location": ["Berlin", "Paris", "Lisbon"][index % 3],
            "timezone": "Europe/Berlin", "level": str(2 + index % 3), "offers": offers, "wants": wants,
            "availability": ["tue-10", "wed-14", ["thu-09", "fri-11"][index % 2]], "consent": True,
            "visible_fields": ["department", "location", "offers", "wants"]}


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium_path):
    """The tool and an LMS course with the 60 learners. Messages stay in the outbox, as they do until a job
    queue's worker sends them: delivering 360 messages inline would hold the publish click for a minute."""
    app, tool, server = serve_tool(tmp_path_factory.mktemp("walk60"))
    patch = pytest.MonkeyPatch()
    patch.setattr("lti_tool.services.outbox.deliver_outbox", lambda cohort_id: None)
    lms = register_lms(app, COURSE, TITLE)
    for sub, name, _ in people():
        add_learner(lms, sub, name, f"{sub}@big.example")
    yield app, tool, lms
    lms.close()
    server.shutdown()
    patch.undo()


def fill_intakes(app) -> dict[str, int]:
    """Every synced learner's intake, through the service layer; returns participant ids by sub."""
    from lti_tool.extensions import db
    from lti_tool.models import LtiUser, Participant
    from lti_tool.services.intake import save_intake

    with app.app_context():
        rows = db.session.execute(db.select(Participant, LtiUser).join(LtiUser, LtiUser.id == Participant.user_id)).all()
        ids = {user.sub: p.id for p, user in rows}
        by_sub = {user.sub: p for p, user in rows}
        for index, (sub, _name, gender) in enumerate(people()):
            save_intake(by_sub[sub], intake_values(index, gender), submit=True)
        for report, manager in MANAGER_LINES:
            save_intake(by_sub[people()[report][0]], {"manager_participant_id": ids[people()[manager][0]]})
    return ids


def partners(app) -> dict[str, str]:
    """Name -> partner's name in the latest proposal."""
    from lti_tool.extensions import db
    from lti_tool.models import MatchRun
    from lti_tool.services.matchmaking import members_of, names

    with app.app_context():
        run = db.session.execute(db.select(MatchRun).order_by(MatchRun.id.desc())).scalars().first()
        assert run.status == "done", run.error
        who = names(run)
        result = {}
        for pair in run.result["pairs"]:
            members = [who[str(m)] for m in members_of(pair)]
            for m in members:
                result[m] = next(o for o in members if o != m)
        return result


def check(page, name: str, axe_at=(390, 1280)) -> None:
    """A screenshot at 390 and 1280 px, axe-clean and nothing wider than the screen at ``axe_at`` (a page seen
    before in another state is checked at 390 px only: axe takes seconds on a page with 60 rows)."""
    for width in (390, 1280):
        if width in axe_at:
            axe_clean(page, width)
        else:
            page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"walk60-{name}-{width}")


def move_lab_to_the_past(app, days: int) -> None:
    """The clock, set through the data: the lab took place ``days`` ago (attendance refuses future sessions)."""
    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    with app.app_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        cohort.day_one, cohort.day_two = date.today() - timedelta(days=days), date.today() - timedelta(days=days - 1)
        db.session.commit()


def ask_about_past_meetings(app) -> int:
    """The check-in job as the worker would have run it every week since the lab (six weeks ago): everyone is
    asked "Did you meet?" about each follow-up meeting that took place. Returns how many were asked."""
    from lti_tool.extensions import db
    from lti_tool.models import Cohort
    from lti_tool.services import calendar_events, check_ins

    now = datetime.now(timezone.utc)
    with app.test_request_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        calendar_events.record_versions(cohort)
        return sum(check_ins.queue_check_ins(cohort, now - timedelta(weeks=weeks)) for weeks in (4, 3, 2, 1, 0))


def test_a_facilitator_runs_a_60_person_lab(browser, lab):
    app, tool, lms = lab
    everyone = people()
    assert sum(g == "woman" for *_, g in everyone) == 30 and sum(g == "man" for *_, g in everyone) == 26
    page = open_from_lms(browser, tool, lms, COURSE, COHORT, f"{COURSE}-teacher", f"Cohorts in {TITLE}", width=1280)
    page.get_by_role("link", name="Autumn lab").click()
    page.get_by_role("heading", level=1, name="Autumn lab").wait_for()
    cohort_url = page.url

    # Settings: the lab's dates, for 60 people.
    page.get_by_role("link", name="Edit settings and matching policy").click()
    first_day = date.today() + timedelta(days=30)
    page.get_by_label("First lab day").fill(first_day.isoformat())
    page.get_by_label("Second lab day").fill((first_day + timedelta(days=1)).isoformat())
    page.get_by_label("Time zone of the lab").select_option("Europe/Berlin")
    page.get_by_label("Venue (room and address)").fill("Room 4.1, Main Street 1, Berlin")
    page.get_by_label("Capacity (participants)").fill("64")
    page.get_by_role("button", name="Save cohort").click()
    page.get_by_text("Cohort settings saved.").wait_for()

    # 1. Roster from the LMS, then 60 intakes.
    page.get_by_role("button", name="Sync learners from the LMS").click()
    page.get_by_text("Roster synchronised with the LMS.").wait_for()
    ids = fill_intakes(app)
    assert len(ids) == 60
    page.reload()
    page.get_by_text("60 of 60 people have submitted").wait_for()
    check(page, "1-roster")

    # 2. Propose teams.
    page.get_by_role("button", name="Propose teams").click()
    page.get_by_text("Proposed teams").first.wait_for()
    check(page, "2-proposal")
    before = partners(app)
    chloe = everyone[0][1]
    assert len(before) >= 56 and chloe not in before  # nobody offers what Chloé wants: she is left unmatched
    proposal_url = page.url

    # 3. A swap that would put Adam with his manager Beatriz: refused by name, the proposal stays as it was.
    report, manager = everyone[MANAGER_LINES[0][0]][1], everyone[MANAGER_LINES[0][1]][1]
    other = before[manager]
    page.get_by_label("First person").select_option(label=report)
    page.get_by_label("Second person").select_option(label=other)
    page.get_by_role("button", name="Swap their partners").click()
    alert = page.locator(".flash-error")
    alert.wait_for()
    message = alert.inner_text()
    assert report in message and manager in message and "manager" in message, message
    assert not re.search(r"\b\d{2,}\b|must_pair|participant '", message), message
    assert page.url == proposal_url and partners(app) == before
    check(page, "3-swap-refused", axe_at=(390,))

    # 4. Pin Chloé (who wants only Writing) with someone who wants what she offers: kept and flagged.
    partner = everyone[3][1]
    page.get_by_label("First person").select_option(label=chloe)
    page.get_by_label("Second person").select_option(label=partner)
    page.get_by_role("button", name="Pin: always pair them").click()
    page.wait_for_url(lambda url: url != proposal_url)
    page.get_by_text("Proposed teams").first.wait_for()
    assert partners(app)[chloe] == partner
    page.get_by_text(re.compile(f"{chloe} gains nothing")).first.wait_for()
    check(page, "4-pinned-one-sided")

    # 5. Preview, then publish.
    page.get_by_role("link", name=re.compile("Publish these teams")).click()
    page.get_by_role("heading", level=1, name="Check before publishing").wait_for()
    assert page.get_by_text("Confirm: publish and send 60 emails and 300 invites").is_visible()
    check(page, "5-publish-preview")  # each person folded but the first: 60 people's mail open is 50,000 px
    assert page.evaluate("() => document.documentElement.scrollHeight") < 12000
    page.get_by_role("button", name=re.compile("Confirm: publish")).click()
    page.get_by_text("30 teams published").wait_for()
    check(page, "6-published", axe_at=(390,))

    # 6. The lab moves by a week: the page says who has old invites, one confirmed step sends the updates.
    page.get_by_role("link", name="Edit settings and matching policy").click()
    moved = first_day + timedelta(days=7)
    page.get_by_label("First lab day").fill(moved.isoformat())
    page.get_by_label("Second lab day").fill((moved + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save cohort").click()
    page.get_by_text("60 people have out-of-date invites").first.wait_for()
    check(page, "7-out-of-date", axe_at=(390,))
    page.get_by_role("button", name="Send the updates to 60 people").click()
    page.get_by_text(re.compile("Updates sent to 60 people")).wait_for()
    assert page.get_by_text("out-of-date invites").count() == 0

    # 7. A 61st learner joins in the LMS, opens the lab and fills the intake: she waits for a partner.
    sub, name = LATE
    add_learner(lms, sub, name, f"{sub}@big.example")
    learner = open_from_lms(browser, tool, lms, COURSE, COHORT, sub, f"Welcome, {name}", width=1280)
    fill_intake(learner, "Woman", "Sales", "Negotiation", "Data analysis")
    learner.get_by_text("waiting list").first.wait_for()
    check(learner, "8-late-joiner-home")
    learner.context.close()
    page.goto(cohort_url)
    page.get_by_role("heading", name="Waiting for a partner (1)").wait_for()
    check(page, "9-waiting", axe_at=(390,))
    page.get_by_role("button", name="Preview this trio").click()
    page.get_by_role("heading", level=1, name="Check before forming this team").wait_for()
    check(page, "10-trio-preview")
    page.get_by_role("button", name=re.compile("Confirm: form the team")).click()
    page.get_by_role("heading", level=1, name="Autumn lab").wait_for()
    assert page.get_by_role("heading", name=re.compile("Waiting for a partner")).count() == 0

    # 8. The lab days are over (the dates moved into the past): attendance for the first morning.
    move_lab_to_the_past(app, days=2)
    page.goto(cohort_url + "/attendance")
    page.get_by_role("heading", level=1, name="Attendance for the lab").wait_for()
    page.get_by_role("link", name="Day 1 morning").click()
    page.get_by_role("heading", level=1, name=re.compile("Attendance: Day 1 morning")).wait_for()
    for person in (everyone[0][1], everyone[1][1], everyone[2][1]):
        page.get_by_label(person, exact=True).check()
    page.get_by_role("button", name="Save attendance").click()
    page.get_by_text(re.compile("Attendance saved for .*: 3 present")).wait_for()
    check(page, "11-attendance")

    # 9. Six weeks on: everyone was asked after each follow-up meeting. Chloé answers on her home page;
    # the facilitator sees every team that said nothing as lapsed, and Chloé's as on track.
    move_lab_to_the_past(app, days=42)
    assert ask_about_past_meetings(app) >= 2 * 61
    learner = open_from_lms(browser, tool, lms, COURSE, COHORT, everyone[0][0], f"Welcome, {chloe}", width=1280)
    question = learner.get_by_role("heading", name=re.compile(f"^Did you meet {partner} & {LATE[1]} on ")).last
    question.wait_for()  # Noor joined Chloé's team as its third member
    check(learner, "12-check-in-home")
    learner.get_by_role("button", name="Yes, we met").last.click()  # the latest meeting (oldest first)
    learner.get_by_text("Thank you: your answer is saved.").wait_for()
    learner.context.close()
    page.goto(cohort_url)
    page.get_by_role("link", name="Did they meet? Check-ins and lapsed teams").click()
    page.get_by_role("heading", level=1, name="Follow-up check-ins").wait_for()
    check(page, "13-check-ins")
    chloes = page.get_by_role("row").filter(has_text=chloe)
    assert "On track" in chloes.inner_text()
    assert page.get_by_role("link", name=re.compile("^Nudge ")).count() == 29  # every other team lapsed
    page.context.close()
