"""Drop-out end to end: the leaver's events are cancelled, the others updated without them, the
pair's series cancelled for the partner, and a replacement partner's series goes out as a new event."""
from __future__ import annotations

import icalendar

from lti_tool.extensions import db
from lti_tool.models import CalendarEvent, Cohort, MatchRun, Participant, Team
from lti_tool.scheduling import stable_uid
from lti_tool.services import invites, matchmaking
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher

from tests.scheduling.scheduling_helpers import last_outbox_id, outbox_since, withdraw_as_learner


def _ids(app):
    with app.app_context():
        return {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}


def test_learner_withdrawal_cancels_for_them_and_updates_the_others(app, lab, platform):
    cohort_id, learners = lab
    with app.app_context():
        first = invites.send_due(cohort_id)
        assert first["queued"] == 20 and first["written"] == 20
        start = last_outbox_id()
        team_id = db.session.execute(db.select(Team.id).order_by(Team.id)).scalars().first()
    series_uid = stable_uid("team", team_id, "follow-up")

    withdraw_as_learner(learners["ben"], cohort_id)

    with app.app_context():
        sent = outbox_since(start)
        assert all(m.status == "written" for m in sent)  # delivered by the (inline) job, not left waiting
        by = {who: [m for m in sent if m.to == f"{who}@example.com"] for who in ("ana", "ben", "cleo", "dan")}
        # Ben: every event he was on is cancelled, same UID, SEQUENCE raised past what he had (0)
        assert len(by["ben"]) == 5 and {m.method for m in by["ben"]} == {"CANCEL"}
        assert all(str(m.event["STATUS"]) == "CANCELLED" and m.sequence == 1 for m in by["ben"])
        assert series_uid in {m.uid for m in by["ben"]}
        # Ana: the four blocks updated without Ben, and the pair's series cancelled (the team is dissolved)
        ana_requests = [m for m in by["ana"] if m.method == "REQUEST"]
        assert len(ana_requests) == 4 and all(m.sequence == 1 and "ben@example.com" not in m.attendees
                                              and "ana@example.com" in m.attendees for m in ana_requests)
        (ana_cancel,) = [m for m in by["ana"] if m.method == "CANCEL"]
        assert ana_cancel.uid == series_uid and ana_cancel.sequence == 1
        # Cleo and Dan: block updates only; their own series is untouched
        for who in ("cleo", "dan"):
            assert len(by[who]) == 4 and {m.method for m in by[who]} == {"REQUEST"}
            assert {m.uid for m in by[who]} == {m.uid for m in ana_requests}
        assert len(sent) == 5 + 5 + 8
        row = db.session.execute(db.select(CalendarEvent).where(CalendarEvent.uid == series_uid)).scalar_one()
        assert row.status == "CANCELLED" and row.sequence == 1
        assert db.session.get(Team, team_id).status == "dissolved"
        assert invites.send_due(cohort_id)["queued"] == 0  # nothing left to tell anybody

    # Ben's calendar is now empty, Ana's has the blocks but no series
    ben_cal = icalendar.Calendar.from_ical(learners["ben"].get(f"/learner/cohorts/{cohort_id}/calendar.ics").data)
    assert ben_cal.walk("VEVENT") == []
    ana_cal = icalendar.Calendar.from_ical(learners["ana"].get(f"/learner/cohorts/{cohort_id}/calendar.ics").data)
    assert len(ana_cal.walk("VEVENT")) == 4 and not any(e.get("RRULE") for e in ana_cal.walk("VEVENT"))
    assert "no longer take part" not in learners["ben"].get("/learner/").get_data(as_text=True)


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
