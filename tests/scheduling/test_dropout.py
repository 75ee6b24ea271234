"""Drop-out end to end: the leaver's events are cancelled, the others updated without them, the
pair's series cancelled for the partner, and a replacement partner's series goes out as a new event."""
from __future__ import annotations

from dataclasses import dataclass

import icalendar
import pytest

from lti_tool.extensions import db
from lti_tool.models import CalendarEvent, Cohort, MatchRun, Participant, Team
from lti_tool.scheduling import stable_uid
from lti_tool.services import invites, matchmaking
from lti_tool.states import TeamStatus
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher

from tests.scheduling.scheduling_helpers import last_outbox_id, outbox_since, withdraw_as_learner


def _ids(app):
    with app.app_context():
        return {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}


@dataclass
class Withdrawal:
    """Invites sent to a published lab of four, then Ben withdrew; what went out because of it."""
    cohort_id: int
    learners: dict
    team_id: int
    series_uid: str
    sent: list

    def to(self, who: str) -> list:
        return [m for m in self.sent if m.to == f"{who}@example.com"]


@pytest.fixture
def ben_withdrew(app, lab) -> Withdrawal:
    cohort_id, learners = lab
    with app.app_context():
        first = invites.send_due(cohort_id)
        assert first["queued"] == 20 and first["written"] == 20
        start = last_outbox_id()
        team_id = db.session.execute(db.select(Team.id).order_by(Team.id)).scalars().first()
    withdraw_as_learner(learners["ben"], cohort_id)
    with app.app_context():
        sent = outbox_since(start)
    return Withdrawal(cohort_id, learners, team_id, stable_uid("team", team_id, "follow-up"), sent)


def test_withdrawal_mail_is_delivered_by_the_job_not_left_waiting(ben_withdrew):
    assert ben_withdrew.sent and all(m.status == "written" for m in ben_withdrew.sent)
    assert len(ben_withdrew.sent) == 5 + 5 + 8


def test_the_leaver_gets_every_event_cancelled(ben_withdrew):
    ben = ben_withdrew.to("ben")  # same UIDs, SEQUENCE raised past what he had (0)
    assert len(ben) == 5 and {m.method for m in ben} == {"CANCEL"}
    assert all(str(m.event["STATUS"]) == "CANCELLED" and m.sequence == 1 for m in ben)
    assert ben_withdrew.series_uid in {m.uid for m in ben}


def test_the_partner_gets_the_blocks_without_the_leaver_and_the_series_cancelled(ben_withdrew):
    ana = ben_withdrew.to("ana")
    requests = [m for m in ana if m.method == "REQUEST"]
    assert len(requests) == 4 and all(m.sequence == 1 and "ben@example.com" not in m.attendees
                                      and "ana@example.com" in m.attendees for m in requests)
    (cancel,) = [m for m in ana if m.method == "CANCEL"]
    assert cancel.uid == ben_withdrew.series_uid and cancel.sequence == 1


def test_the_other_team_gets_block_updates_only(ben_withdrew):
    ana_blocks = {m.uid for m in ben_withdrew.to("ana") if m.method == "REQUEST"}
    for who in ("cleo", "dan"):
        mine = ben_withdrew.to(who)
        assert len(mine) == 4 and {m.method for m in mine} == {"REQUEST"}
        assert {m.uid for m in mine} == ana_blocks


def test_the_pair_series_is_stored_cancelled_and_nothing_is_left_to_send(app, ben_withdrew):
    with app.app_context():
        row = db.session.execute(db.select(CalendarEvent).where(
            CalendarEvent.uid == ben_withdrew.series_uid)).scalar_one()
        assert row.status == "CANCELLED" and row.sequence == 1
        assert db.session.get(Team, ben_withdrew.team_id).status == TeamStatus.DISSOLVED
        assert invites.send_due(ben_withdrew.cohort_id)["queued"] == 0


def test_calendars_after_withdrawal(ben_withdrew):
    ben, ana, cohort_id = ben_withdrew.learners["ben"], ben_withdrew.learners["ana"], ben_withdrew.cohort_id
    assert icalendar.Calendar.from_ical(ben.get(f"/learner/cohorts/{cohort_id}/calendar.ics").data).walk(
        "VEVENT") == []
    ana_events = icalendar.Calendar.from_ical(ana.get(f"/learner/cohorts/{cohort_id}/calendar.ics").data).walk(
        "VEVENT")
    assert len(ana_events) == 4 and not any(e.get("RRULE") for e in ana_events)
    assert "no longer take part" not in ben.get("/learner/").get_data(as_text=True)


def test_replacement_partner_gets_a_new_series_and_kept_teams_keep_theirs(app, lab, platform, lti, client):
    cohort_id, learners = lab
    with app.app_context():
        invites.send_due(cohort_id)
        old_teams = {tuple(t.member_ids): t.id for t in db.session.execute(db.select(Team)).scalars()}
    withdraw_as_learner(learners["ben"], cohort_id)
    eve = Launcher(https_client(app), platform)
    eve(role="learner", sub="eve", name="Eve", email="eve@example.com", custom={"cohort": "lab"})
    ids = _ids(app)
    with app.app_context():
        db.session.get(Participant, ids["eve"]).availability = ["tue-10"]
        pairs = [{"a": ids["cleo"], "b": ids["dan"], "score": 1.0, "gain_a": 0.5, "gain_b": 0.5},
                 {"a": ids["ana"], "b": ids["eve"], "score": 1.0, "gain_a": 0.5, "gain_b": 0.5}]
        run = MatchRun(cohort_id=cohort_id, status="done", kind="rematch", result={"pairs": pairs},
                       pool={"participants": [{"id": i} for i in ids.values()]})
        db.session.add(run)
        db.session.commit()
        teams = matchmaking.publish(run)
        kept = old_teams[(ids["cleo"], ids["dan"])]
        assert teams[0].id == kept  # Cleo & Dan stay the same team: their series keeps its UID
        new_uid = stable_uid("team", teams[1].id, "follow-up")
        start = last_outbox_id()

    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert client.post(f"/facilitator/cohorts/{cohort_id}/invites",
                       data={"csrf_token": csrf_token_in(page)}).status_code == 303
    with app.app_context():
        sent = outbox_since(start)
        series = [m for m in sent if m.event.get("RRULE")]
        assert {m.to for m in series} == {"ana@example.com", "eve@example.com"}
        assert all(m.uid == new_uid and m.sequence == 0 and m.method == "REQUEST" for m in series)
        assert new_uid != stable_uid("team", old_teams[(ids["ana"], ids["ben"])], "follow-up")
        blocks = [m for m in sent if not m.event.get("RRULE")]
        assert {m.to for m in blocks} == {f"{s}@example.com" for s in ("ana", "cleo", "dan", "eve")}
        assert all("eve@example.com" in m.attendees and m.sequence == 2 for m in blocks)
        assert len(sent) == 2 + 4 * 4


def test_facilitator_removal_is_the_same_drop_out(app, lab, lti, client):
    cohort_id, _ = lab
    ids = _ids(app)
    with app.app_context():
        invites.send_due(cohort_id)
        start = last_outbox_id()
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    assert f"/participants/{ids['dan']}/remove" in page.get_data(as_text=True)
    confirm = client.get(f"/facilitator/cohorts/{cohort_id}/participants/{ids['dan']}/remove")
    response = client.post(f"/facilitator/cohorts/{cohort_id}/participants/{ids['dan']}/remove",
                           data={"csrf_token": csrf_token_in(confirm)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Participant, ids["dan"]).status == "withdrawn"
        sent = outbox_since(start)
        assert {m.method for m in sent if m.to == "dan@example.com"} == {"CANCEL"}
        assert [m.method for m in sent if m.to == "cleo@example.com" and m.event.get("RRULE")] == ["CANCEL"]
        other = Cohort(course_id=db.session.get(Cohort, cohort_id).course_id, slug="other", name="Other")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    # a participant is only reachable through their own cohort
    assert client.post(f"/facilitator/cohorts/{other_id}/participants/{ids['cleo']}/remove",
                       data={"csrf_token": csrf_token_in(page)}).status_code == 404
