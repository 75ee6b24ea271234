"""Follow-up meetings are followed up: after each meeting both partners are asked "Did you meet?" (by an
emailed link and on their home page), the facilitator sees lapsed teams and can nudge them, and the
counts reach L&D."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from lti_tool.extensions import db
from lti_tool.models import CheckIn, Cohort, OutboxMessage, Participant, Team
from lti_tool.services import check_ins, follow_ups
from tests.conftest import csrf_token_in, https_client, plain_text
from tests.scheduling.scheduling_helpers import last_outbox_id


def _ids(app) -> dict[str, int]:
    with app.app_context():
        return {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}


def _team_of(app, sub) -> int:
    pid = _ids(app)[sub]
    with app.app_context():
        return next(t.id for t in db.session.execute(db.select(Team)).scalars() if pid in t.member_ids)


def _meetings(app, cohort_id, sub="ana") -> list[datetime]:
    """The original starts of the team's meetings (aware, cohort time)."""
    team_id = _team_of(app, sub)
    with app.app_context():
        overview = follow_ups.follow_up_overview(db.session.get(Cohort, cohort_id))
        return [start for start, _, _ in next(t for t in overview if t["team"].id == team_id)["meetings"]]


def _after(meeting: datetime) -> datetime:
    return meeting.astimezone(timezone.utc) + timedelta(hours=3)


def _sweep(app, now: datetime) -> dict:
    with app.app_context():
        return check_ins.send_due(now=now)


def _rows(app, sub=None) -> list[CheckIn]:
    with app.app_context():
        query = db.select(CheckIn).order_by(CheckIn.id)
        if sub:
            query = query.where(CheckIn.participant_id == _ids(app)[sub])
        rows = db.session.execute(query).scalars().all()
        db.session.expunge_all()
        return rows


def _link(app, sub) -> str:
    with app.app_context():
        row = db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.kind == "checkin", OutboxMessage.recipient == f"{sub}@example.com")
            .order_by(OutboxMessage.id.desc())).scalars().first()
        text = plain_text(row.body)
    return re.search(r"https?://\S+/check-in/\S+", text).group(0)


def test_after_a_meeting_both_partners_are_asked_once(app, lab):
    cohort_id, _ = lab
    first = _meetings(app, cohort_id)[0]
    _sweep(app, _after(first) - timedelta(days=2))  # before the meeting: they are not asked
    assert _rows(app, "ana") == _rows(app, "ben") == []
    _sweep(app, _after(first))
    assert len(_rows(app, "ana")) == len(_rows(app, "ben")) == 1
    with app.app_context():
        mails = db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.kind == "checkin", OutboxMessage.recipient.in_(["ana@example.com", "ben@example.com"])))
        assert sorted(m.subject for m in mails.scalars()) == ["Did you meet Ana?", "Did you meet Ben?"]
    total = len(_rows(app))
    assert _sweep(app, _after(first))["check_ins"] == 0  # the job runs again: nobody is asked twice
    assert len(_rows(app)) == total


def test_a_cancelled_meeting_is_not_asked_about(app, lab):
    cohort_id, _ = lab
    first = _meetings(app, cohort_id)[0]
    with app.app_context():
        team = db.session.get(Team, _team_of(app, "ana"))
        follow_ups.cancel_meeting(team, first.date(), now=first - timedelta(days=3))
    _sweep(app, _after(first))
    assert _rows(app, "ana") == []


def test_a_moved_meeting_is_asked_about_after_its_new_time(app, lab):
    cohort_id, _ = lab
    first = _meetings(app, cohort_id)[0]
    later = first + timedelta(days=2)
    with app.app_context():
        team = db.session.get(Team, _team_of(app, "ana"))
        follow_ups.move_meeting(team, first.date(), later.time(), later.date(), now=first - timedelta(days=3))
    _sweep(app, _after(first))
    assert _rows(app, "ana") == []
    _sweep(app, _after(later))
    (row,) = _rows(app, "ana")
    assert row.meeting_start == later.astimezone(timezone.utc).replace(tzinfo=None)


def test_the_email_link_asks_on_get_and_records_that_one_answer_on_post_without_a_launch(app, lab):
    cohort_id, _ = lab
    _sweep(app, _after(_meetings(app, cohort_id)[0]))
    link = _link(app, "ana")
    browser = https_client(app)  # no LTI launch, no session
    page = browser.get(link)
    assert page.status_code == 200 and "Did you meet?" in page.get_data(as_text=True)
    assert [r.answer for r in _rows(app)] == [None] * len(_rows(app))  # GET only reads
    done = browser.post(link, data={"csrf_token": csrf_token_in(page), "answer": "yes"})
    assert done.status_code == 200 and "your answer is saved" in done.get_data(as_text=True)
    assert [r.answer for r in _rows(app, "ana")] == ["yes"] and [r.answer for r in _rows(app, "ben")] == [None]


def test_the_email_link_needs_the_csrf_token(app, lab):
    cohort_id, _ = lab
    _sweep(app, _after(_meetings(app, cohort_id)[0]))
    link = _link(app, "ana")
    browser = https_client(app)
    browser.get(link)
    assert browser.post(link, data={"answer": "yes"}).status_code == 400
    assert [r.answer for r in _rows(app, "ana")] == [None]


@pytest.mark.parametrize("change", ["tampered", "other purpose"])
def test_a_link_that_was_altered_or_made_for_something_else_is_refused(app, lab, change):
    from itsdangerous import URLSafeTimedSerializer

    cohort_id, _ = lab
    _sweep(app, _after(_meetings(app, cohort_id)[0]))
    link = _link(app, "ana")
    token = link.rsplit("/", 1)[1]
    if change == "tampered":
        bad = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        (row,) = _rows(app, "ana")
        bad = URLSafeTimedSerializer(app.secret_key, salt="something-else").dumps(
            {"check_in": row.id, "participant": row.participant_id})
    browser = https_client(app)
    token_page = browser.get(link)  # a good page's CSRF token, so only the link is wrong
    assert browser.get(f"/check-in/{bad}").status_code == 404
    assert browser.post(f"/check-in/{bad}", data={"csrf_token": csrf_token_in(token_page),
                                                   "answer": "yes"}).status_code == 404
    assert [r.answer for r in _rows(app, "ana")] == [None]


def test_an_expired_link_says_so_and_points_to_the_home_page(app, lab, monkeypatch):
    cohort_id, _ = lab
    _sweep(app, _after(_meetings(app, cohort_id)[0]))
    link = _link(app, "ana")
    monkeypatch.setattr(check_ins, "TOKEN_MAX_AGE", timedelta(seconds=-1))
    page = https_client(app).get(link)
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)


def test_the_home_page_asks_and_records_the_answer(app, lab):
    cohort_id, learners = lab
    _sweep(app, _after(_meetings(app, cohort_id)[0]))
    (row,) = _rows(app, "ben")
    home = learners["ben"].get("/learner/")
    html = home.get_data(as_text=True)
    assert f"/learner/cohorts/{cohort_id}/check-ins/{row.id}" in html and "We moved it to another time" in html
    answered = learners["ben"].post(f"/learner/cohorts/{cohort_id}/check-ins/{row.id}",
                                    data={"csrf_token": csrf_token_in(home), "answer": "moved"})
    assert answered.status_code == 303
    assert _rows(app, "ben")[0].answer == "moved"
    assert f"/check-ins/{row.id}" not in learners["ben"].get("/learner/").get_data(as_text=True)


def test_a_learner_cannot_answer_for_someone_else(app, lab):
    cohort_id, learners = lab
    _sweep(app, _after(_meetings(app, cohort_id)[0]))
    (anas,) = _rows(app, "ana")
    home = learners["ben"].get("/learner/")
    response = learners["ben"].post(f"/learner/cohorts/{cohort_id}/check-ins/{anas.id}",
                                    data={"csrf_token": csrf_token_in(home), "answer": "no"})
    assert response.status_code == 404
    assert _rows(app, "ana")[0].answer is None


def _two_meetings_answered(app, cohort_id, answers: list[str | None]):
    """Ana and Ben's first two meetings asked about, Ana answering ``answers`` (Ben never answers)."""
    for meeting, value in zip(_meetings(app, cohort_id)[:2], answers):
        _sweep(app, _after(meeting))
        if value:
            with app.app_context():
                row = db.session.execute(db.select(CheckIn).where(CheckIn.participant_id == _ids(app)["ana"])
                                         .order_by(CheckIn.id.desc())).scalars().first()
                check_ins.answer(row, value)


@pytest.mark.parametrize("answers, lapsed", [(["no", None], True), ([None, None], True), (["no", "moved"], False),
                                             (["yes", "no"], False)])
def test_a_team_lapses_after_two_meetings_without_a_yes_or_moved(app, lab, answers, lapsed):
    cohort_id, _ = lab
    _two_meetings_answered(app, cohort_id, answers)
    with app.app_context():
        status = {t.team.id: t.lapsed for t in check_ins.team_status(db.session.get(Cohort, cohort_id))}
    assert status[_team_of(app, "ana")] is lapsed


def test_the_facilitator_sees_a_lapsed_team_and_nudges_it_after_confirming(app, lab, lti, client):
    cohort_id, _ = lab
    _two_meetings_answered(app, cohort_id, ["no", None])
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    overview = client.get(f"/facilitator/cohorts/{cohort_id}/check-ins").get_data(as_text=True)
    team_id = _team_of(app, "ana")
    assert "Lapsed" in overview and f"/check-ins/{team_id}/nudge" in overview
    with app.app_context():
        before = last_outbox_id()
    confirm = client.get(f"/facilitator/cohorts/{cohort_id}/check-ins/{team_id}/nudge")
    assert "Time to meet Ben again?" in confirm.get_data(as_text=True)
    with app.app_context():
        assert last_outbox_id() == before  # the preview sends nothing
    sent = client.post(f"/facilitator/cohorts/{cohort_id}/check-ins/{team_id}/nudge",
                       data={"csrf_token": csrf_token_in(confirm)})
    assert sent.status_code == 303
    with app.app_context():
        nudges = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.id > before)).scalars().all()
        assert {(m.recipient, m.kind) for m in nudges} == {("ana@example.com", "checkin_nudge"),
                                                           ("ben@example.com", "checkin_nudge")}


def test_a_learner_cannot_open_the_check_in_overview(app, lab):
    cohort_id, learners = lab
    assert learners["ana"].get(f"/facilitator/cohorts/{cohort_id}/check-ins").status_code == 403


def test_counts_per_cohort_meetings_due_answered_and_held(app, lab):
    cohort_id, _ = lab
    _two_meetings_answered(app, cohort_id, ["yes", "no"])
    with app.app_context():
        counts = check_ins.cohort_counts([cohort_id])[cohort_id]
    # Ana & Ben's two meetings (Cleo & Dan's two as well: their weekday comes before the sweep's time too)
    assert counts["meetings_due"] == len({(r.team_id, r.occurrence) for r in _rows(app)})
    assert counts["check_ins"] == len(_rows(app))
    assert (counts["answered"], counts["held"], counts["respondents"]) == (2, 1, 1)


def test_the_command_runs_the_sweep_and_asks_nobody_twice(app, lab, monkeypatch):
    cohort_id, _ = lab
    first = _meetings(app, cohort_id)[0]
    real = check_ins.send_due
    monkeypatch.setattr(check_ins, "send_due", lambda cohort=None: real(cohort, now=_after(first)))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["check-ins", "send", "--cohort", str(cohort_id)]).output
    assert out.startswith(f"{len(_rows(app))} people asked") and _rows(app, "ana")
    assert runner.invoke(args=["check-ins", "send", "--cohort", str(cohort_id)]).output.startswith("0 people asked")
