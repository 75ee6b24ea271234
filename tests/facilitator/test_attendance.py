"""Attendance for a real lab: per half-day, never for what has not started, "everyone" only fills gaps, one
step of undo, and progress counts a day only when it was recorded."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lti_tool.extensions import db
from lti_tool.models import Attendance, Cohort, Participant
from lti_tool.services import lab_day
from lti_tool.services.progress import progress_for
from tests.conftest import csrf_token_in, dated_lab, https_client
from tests.lti_platform import Launcher

PAST = date.today() - timedelta(days=7)
FUTURE = date.today() + timedelta(days=21)


@pytest.fixture
def past_lab(app, platform):
    return dated_lab(app, platform, PAST)


@pytest.fixture
def future_lab(app, platform):
    return dated_lab(app, platform, FUTURE)


def ids(app) -> dict[str, int]:
    with app.app_context():
        return {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}


def blocks(app, cohort_id):
    with app.app_context():
        return [(lab_day.half_day_key(b), [s.session.id for s in b.sessions])
                for b in lab_day.half_days(db.session.get(Cohort, cohort_id))]


def marks(app, cohort_id, session_ids) -> dict[tuple[int, str], bool]:
    with app.app_context():
        rows = db.session.execute(db.select(Attendance).where(Attendance.cohort_id == cohort_id,
                                                              Attendance.session_id.in_(session_ids))).scalars()
        return {(r.participant_id, r.session_id): r.present for r in rows}


def attended(app, day: int) -> dict[int, bool]:
    with app.app_context():
        people = db.session.execute(db.select(Participant)).scalars().all()
        return {pid: next(i.done for i in pr.items if i.key == f"day{day}") for pid, pr in progress_for(people).items()}


def test_one_session_ticked_does_not_make_a_day_attended(app, past_lab, lti, client):
    """Reported: ticking one 45-minute session showed 'Attended day 1: yes' for everyone."""
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    (_key, first_half), *_ = blocks(app, past_lab)
    url = f"/facilitator/cohorts/{past_lab}/attendance/{first_half[0]}"
    client.post(url, data={"csrf_token": csrf_token_in(client.get(url)), "everyone": "1"})
    assert len(marks(app, past_lab, first_half[:1])) == 3
    assert attended(app, 1) == {pid: False for pid in ids(app).values()}
    page = client.get(f"/facilitator/cohorts/{past_lab}/progress").get_data(as_text=True)
    assert "Attended day 1: no" in page and "Attended day 1: yes" not in page


def test_a_half_day_marks_all_its_sessions_and_both_halves_make_the_day(app, past_lab, lti, client):
    """Reported: 11 sessions × 60 people is 660 ticks. Two forms a day now, and progress follows them."""
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    people = ids(app)
    day_one = [b for b in blocks(app, past_lab) if b[0].startswith("day1-")]
    assert [key for key, _s in day_one] == ["day1-morning", "day1-afternoon"]
    overview = client.get(f"/facilitator/cohorts/{past_lab}/attendance")
    text = overview.get_data(as_text=True)
    assert "<caption>" in text and "Day 1 morning" in text and "Day 2 afternoon" in text
    for key, sessions in day_one:
        url = f"/facilitator/cohorts/{past_lab}/attendance/half-day/{key}"
        page = client.get(url)
        assert page.status_code == 200 and "Tick who is here" in page.get_data(as_text=True)
        saved = client.post(url, data={"csrf_token": csrf_token_in(page),
                                       "present": [str(people["ana"]), str(people["cleo"])]})
        assert saved.status_code == 303
        recorded = marks(app, past_lab, sessions)
        assert len(recorded) == 3 * len(sessions) and len(sessions) > 1
        assert all(recorded[(people["ben"], s)] is False and recorded[(people["ana"], s)] for s in sessions)
        if key == "day1-morning":  # half a day is not the day
            assert attended(app, 1)[people["ana"]] is False
    assert attended(app, 1) == {people["ana"]: True, people["ben"]: False, people["cleo"]: True}
    assert attended(app, 2) == {pid: False for pid in people.values()}
    assert "2 present" in client.get(f"/facilitator/cohorts/{past_lab}/attendance/half-day/day1-afternoon"
                                     ).get_data(as_text=True)
    assert client.get(f"/facilitator/cohorts/{past_lab}/attendance/half-day/day9-evening").status_code == 404


def test_a_half_day_that_has_not_started_is_refused(app, future_lab, lti, client):
    """Reported: attendance could be recorded weeks before the lab."""
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    people = ids(app)
    key, sessions = blocks(app, future_lab)[0]
    url = f"/facilitator/cohorts/{future_lab}/attendance/half-day/{key}"
    page = client.get(url).get_data(as_text=True)
    assert "has not started yet" in page and "Tick who is here" not in page
    token = csrf_token_in(client.get(f"/facilitator/cohorts/{future_lab}"))
    refused = client.post(url, data={"csrf_token": token, "present": [str(people["ana"])]})
    assert refused.status_code == 303
    assert "has not started yet" in client.get(refused.headers["Location"]).get_data(as_text=True)
    single = f"/facilitator/cohorts/{future_lab}/attendance/{sessions[0]}"
    client.post(single, data={"csrf_token": token, "everyone": "1"})
    assert marks(app, future_lab, sessions) == {}
    assert "not started yet" in client.get(f"/facilitator/cohorts/{future_lab}/attendance").get_data(as_text=True)


def test_everyone_is_here_keeps_earlier_marks_and_the_last_change_can_be_undone(app, past_lab, lti, client):
    """Reported: 'Everyone is here' overwrote earlier entries with no undo."""
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    people = ids(app)
    key, sessions = blocks(app, past_lab)[0]
    url = f"/facilitator/cohorts/{past_lab}/attendance/half-day/{key}"
    token = csrf_token_in(client.get(url))
    with app.app_context():  # Ben recorded absent for one session, nobody else marked yet
        db.session.add(Attendance(cohort_id=past_lab, participant_id=people["ben"], session_id=sessions[0],
                                  present=False))
        db.session.commit()
    before = marks(app, past_lab, sessions)
    done = client.post(url, data={"csrf_token": token, "everyone": "1"})
    assert "2 more marked present" in client.get(done.headers["Location"]).get_data(as_text=True)
    after = marks(app, past_lab, sessions)
    assert after[(people["ben"], sessions[0])] is False and (people["ben"], sessions[1]) not in after
    assert all(after[(people[p], s)] for p in ("ana", "cleo") for s in sessions)
    overview = client.get(f"/facilitator/cohorts/{past_lab}/attendance")
    assert "Undo last change" in overview.get_data(as_text=True)
    undone = client.post(f"/facilitator/cohorts/{past_lab}/attendance/undo", data={"csrf_token": token})
    assert "earlier marks are back" in client.get(undone.headers["Location"]).get_data(as_text=True)
    assert marks(app, past_lab, sessions) == before
    # A full re-record replaced marks; undo puts back exactly those values.
    client.post(url, data={"csrf_token": token, "present": [str(people["ana"])]})
    first = marks(app, past_lab, sessions)
    client.post(url, data={"csrf_token": token, "present": [str(people["ben"]), str(people["cleo"])]})
    assert marks(app, past_lab, sessions) != first
    client.post(f"/facilitator/cohorts/{past_lab}/attendance/undo", data={"csrf_token": token})
    assert marks(app, past_lab, sessions) == first
    nothing = client.post(f"/facilitator/cohorts/{past_lab}/attendance/undo", data={"csrf_token": token})
    assert "no attendance change to undo" in client.get(nothing.headers["Location"]).get_data(as_text=True)
    assert client.post(f"/facilitator/cohorts/{past_lab}/attendance/undo").status_code == 400  # no CSRF token


def test_learners_cannot_take_or_undo_attendance(app, past_lab, platform):
    learner = Launcher(https_client(app), platform)
    learner(role="learner", sub="ana", name="Ana", email="ana@example.com", custom={"cohort": "lab"})
    for path in ("attendance", "attendance/half-day/day1-morning"):
        assert learner.client.get(f"/facilitator/cohorts/{past_lab}/{path}").status_code == 403
    token = csrf_token_in(learner.client.get(f"/learner/cohorts/{past_lab}/intake"))  # a valid token of the learner
    assert learner.client.post(f"/facilitator/cohorts/{past_lab}/attendance/undo",
                               data={"csrf_token": token}).status_code == 403
    assert learner.client.post(f"/facilitator/cohorts/{past_lab}/attendance/half-day/day1-morning",
                               data={"csrf_token": token, "everyone": "1"}).status_code == 403
