"""Per-event .ics downloads, and moving or cancelling one follow-up meeting (RECURRENCE-ID) or a
whole series from the facilitator's cohort page, with the form's errors for bad input."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events
from zoneinfo import ZoneInfo

from lti_tool.extensions import db
from lti_tool.models import CalendarEvent, Cohort, FollowUpOverride, OutboxMessage, Participant, Team
from lti_tool.scheduling import stable_uid
from lti_tool.services import follow_ups, invites
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher

from tests.scheduling.scheduling_helpers import last_outbox_id, outbox_since, parse_calendar

BERLIN = ZoneInfo("Europe/Berlin")


def _team(app, *subs) -> int:
    with app.app_context():
        ids = {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}
        return next(t.id for t in db.session.execute(db.select(Team)).scalars()
                    if set(t.member_ids) == {ids[s] for s in subs})


def _meetings(app, cohort_id, team_id) -> list[datetime]:
    with app.app_context():
        overview = follow_ups.follow_up_overview(db.session.get(Cohort, cohort_id))
        return [start for start, _, _ in next(t for t in overview if t["team"].id == team_id)["meetings"]]


def _post(client, cohort_id, **data):
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    return client.post(f"/facilitator/cohorts/{cohort_id}/follow-ups", data={"csrf_token": csrf_token_in(page), **data})


def _starts(calendar_bytes, uid) -> list[datetime]:
    calendar = icalendar.Calendar.from_ical(calendar_bytes)
    occurrences = recurring_ical_events.of(calendar).between(datetime(2000, 1, 1), datetime(2100, 1, 1))
    return sorted(e.decoded("DTSTART") for e in occurrences if str(e["UID"]) == uid)


def test_every_event_downloads_on_its_own_for_the_facilitator_and_its_attendees(app, lab, lti, client, platform):
    cohort_id, learners = lab
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    html = client.get(f"/facilitator/cohorts/{cohort_id}").get_data(as_text=True)
    links = re.findall(rf'href="(/facilitator/cohorts/{cohort_id}/events/\d+\.ics)"', html)
    assert len(links) == 6  # four half-day blocks and two follow-up series
    uids = set()
    for link in links:
        response = client.get(link)
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        assert "attachment" in response.headers["Content-Disposition"]
        calendar = parse_calendar(response.data)
        (event,) = calendar.walk("VEVENT")
        assert str(calendar["METHOD"]) == "PUBLISH" and calendar.walk("VTIMEZONE")
        uids.add(str(event["UID"]))
    assert len(uids) == 6

    ana = learners["ana"]
    mine = re.findall(rf'href="(/learner/cohorts/{cohort_id}/events/(\d+)\.ics)"', ana.get("/learner/").get_data(as_text=True))
    assert len(mine) == 5  # the blocks and her own team's series
    for link, _ in mine:
        assert ana.get(link).status_code == 200
    with app.app_context():
        cleo_dan = db.session.execute(db.select(CalendarEvent).where(
            CalendarEvent.uid == stable_uid("team", _team(app, "cleo", "dan"), "follow-up"))).scalar_one().id
    assert str(cleo_dan) not in {event_id for _, event_id in mine}
    assert ana.get(f"/learner/cohorts/{cohort_id}/events/{cleo_dan}.ics").status_code == 404  # not her event
    assert client.get(f"/facilitator/cohorts/{cohort_id}/events/999999.ics").status_code == 404
    # a facilitator of another course reaches neither the cohort nor its events
    other = Launcher(https_client(app), platform)
    other(role="instructor", sub="gus", name="Gus", email="gus@example.com", context_id="course-2")
    assert other.client.get(links[0]).status_code == 404
    assert ana.get(links[0]).status_code == 403  # a learner is not a facilitator


@dataclass
class OneMeetingChanged:
    """Ana & Ben's invites sent; the facilitator moved their second meeting and cancelled the third."""
    cohort_id: int
    learners: dict
    uid: str
    meetings: list
    new_start: datetime
    moved_mail: list
    cancelled_mail: list


@pytest.fixture
def one_meeting_changed(app, lab, lti, client) -> OneMeetingChanged:
    cohort_id, learners = lab
    team_id = _team(app, "ana", "ben")
    with app.app_context():
        invites.send_due(cohort_id)
        start = last_outbox_id()
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    meetings = _meetings(app, cohort_id, team_id)
    second, third = meetings[1], meetings[2]
    moved = _post(client, cohort_id, team=team_id, change="move", occurrence=second.date().isoformat(),
                  new_date=(second.date() + timedelta(days=1)).isoformat(), new_time="15:30")
    assert moved.status_code == 303
    with app.app_context():
        moved_mail, start = outbox_since(start), last_outbox_id()
    cancelled = _post(client, cohort_id, team=team_id, change="cancel", occurrence=third.date().isoformat())
    assert cancelled.status_code == 303
    with app.app_context():
        cancelled_mail = outbox_since(start)
    new_start = datetime.combine(second.date() + timedelta(days=1), datetime.min.time().replace(hour=15, minute=30),
                                 tzinfo=BERLIN)
    return OneMeetingChanged(cohort_id, learners, stable_uid("team", team_id, "follow-up"), meetings, new_start,
                             moved_mail, cancelled_mail)


def test_moving_one_meeting_sends_an_override_for_that_occurrence_only(one_meeting_changed):
    changed = one_meeting_changed
    assert sorted(m.to for m in changed.moved_mail) == ["ana@example.com", "ben@example.com"]
    for m in changed.moved_mail:
        assert m.method == "REQUEST" and len(m.events) == 1 and m.uid == changed.uid and m.sequence == 1
        assert m.event.decoded("RECURRENCE-ID") == changed.meetings[1]
        assert m.event.decoded("DTSTART") == changed.new_start
        assert "RRULE" not in m.event and m.subject.startswith("Moved:")


def test_cancelling_one_meeting_cancels_that_occurrence_and_not_the_series(app, one_meeting_changed):
    changed = one_meeting_changed
    assert sorted(m.to for m in changed.cancelled_mail) == ["ana@example.com", "ben@example.com"]
    for m in changed.cancelled_mail:
        assert m.method == "CANCEL" and m.uid == changed.uid and m.sequence == 1
        assert m.event.decoded("RECURRENCE-ID") == changed.meetings[2] and str(m.event["STATUS"]) == "CANCELLED"
    with app.app_context():
        master = db.session.execute(db.select(CalendarEvent).where(CalendarEvent.uid == changed.uid)).scalar_one()
        assert master.status == "CONFIRMED" and master.sequence == 0


def test_the_subscription_feed_carries_the_moved_and_the_cancelled_meeting(app, one_meeting_changed):
    changed, ana = one_meeting_changed, one_meeting_changed.learners["ana"]
    home = ana.get("/learner/")
    ana.post(f"/learner/cohorts/{changed.cohort_id}/feed", data={"csrf_token": csrf_token_in(home)})
    token = ana.get("/learner/").get_data(as_text=True).split("/calendar/")[1].split("</code>")[0]
    feed = app.test_client().get("/calendar/" + token).data
    parse_calendar(feed)
    starts = _starts(feed, changed.uid)
    assert len(starts) == 5 and changed.new_start in starts
    assert changed.meetings[1] not in starts and changed.meetings[2] not in starts
    assert changed.meetings[0] in starts and changed.meetings[5] in starts


def test_the_facilitator_sees_the_moved_and_the_cancelled_meeting(client, one_meeting_changed):
    page = client.get(f"/facilitator/cohorts/{one_meeting_changed.cohort_id}").get_data(as_text=True)
    assert "(cancelled)" in page
    assert "moved to " + one_meeting_changed.new_start.strftime("%Y-%m-%d %H:%M") in page


def test_moving_the_whole_series_to_a_slot_both_marked_updates_the_same_event(app, lab, lti, client):
    cohort_id, _ = lab
    team_id = _team(app, "ana", "ben")
    with app.app_context():
        ben = next(p for p in db.session.execute(db.select(Participant)).scalars() if p.user.sub == "ben")
        ben.availability = ["tue-10", "thu-14"]
        db.session.commit()
        invites.send_due(cohort_id)
        start = last_outbox_id()
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    assert _post(client, cohort_id, team=team_id, change="series", slot="thu-14").status_code == 303
    with app.app_context():
        sent = outbox_since(start)
        assert len(sent) == 2 and all(m.method == "REQUEST" and m.sequence == 1 for m in sent)
        moved = sent[0].event.decoded("DTSTART")
        assert moved.weekday() == 3 and moved.hour == 14 and sent[0].uid == stable_uid("team", team_id, "follow-up")
        assert db.session.get(Team, team_id).follow_up_slot == "thu-14"


def test_bad_follow_up_changes_are_form_errors_and_nothing_is_saved(app, lab, lti, client):
    cohort_id, _ = lab
    team_id = _team(app, "ana", "ben")
    with app.app_context():
        invites.send_due(cohort_id)
        start = last_outbox_id()
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com")
    first = _meetings(app, cohort_id, team_id)[0]

    cases = [
        (dict(change="move", occurrence=(first.date() + timedelta(days=1)).isoformat(), new_time="10:00"),
         "This team has no follow-up meeting on"),
        (dict(change="move", occurrence=first.date().isoformat(), new_date=(date.today() - timedelta(days=1)).isoformat(),
              new_time="10:00"), "That time is in the past."),
        (dict(change="move", occurrence=first.date().isoformat()), "Needed for this change."),
        (dict(change="series", slot="mon-08"), "Nobody in this team marked Monday 8:00 as free."),
        (dict(change="series", slot="thu-14"), "Ben did not mark Thursday 14:00 as free."),
    ]
    for data, message in cases:
        response = _post(client, cohort_id, team=team_id, **data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html, (data, html[html.find("error-summary"):][:600])
        assert 'aria-invalid="true"' in html
    other_team = _post(client, cohort_id, team=999999, change="cancel", occurrence=first.date().isoformat())
    assert other_team.status_code == 422 and "Not a valid choice" in other_team.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(FollowUpOverride.id))).scalar() == 0
        assert db.session.get(Team, team_id).follow_up_slot is None
        assert last_outbox_id() == start
        assert db.session.execute(db.select(db.func.count(OutboxMessage.id))).scalar() == 20
