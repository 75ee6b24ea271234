"""Calendar mail in each recipient's language: the subject, the text around the calendar and the event's
own summary and description (from the curriculum's translations) follow the locale of the person's last
launch; the event itself (UID, SEQUENCE, times, attendees) is the same valid iCalendar for everyone."""
from __future__ import annotations

import email
from email import policy

import pytest

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage
from lti_tool.models import CalendarEvent
from lti_tool.services import calendar_events, invites
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import LTI, Launcher

from tests.scheduling.scheduling_helpers import LAB_DAY, calendar_part, parse_calendar

LAB_BLOCK = "Reciprocal Mentoring Lab: day 1, morning"  # the lab's first half-day block, as the calendar names it
LAB_BLOCK_DE = "Reciprocal Mentoring Lab: Tag 1, Vormittag"  # the same block in a German invite


@pytest.fixture
def ana_speaks_german(app, platform, lab):
    """Ana opens the lab again from an LMS set to German (de-DE); Ben's LMS stays English."""
    launcher = Launcher(https_client(app), platform)
    launcher(role="learner", sub="ana", name="Ana", email="ana@example.com", custom={"cohort": "lab"},
             extra={LTI + "launch_presentation": {"document_target": "iframe", "locale": "de-DE"}})
    lab[1]["ana"] = launcher.client  # signed in from the German LMS
    return lab


def mail_to(address: str, last_id: int = 0):
    rows = db.session.execute(db.select(OutboxMessage).where(
        OutboxMessage.recipient == address, OutboxMessage.id > last_id).order_by(OutboxMessage.id)).scalars()
    return [email.message_from_string(row.body, policy=policy.default) for row in rows]


def first_block(messages):
    return next(m for m in messages
                if str(parse_calendar(calendar_part(m)).walk("VEVENT")[0]["SUMMARY"]) in (LAB_BLOCK, LAB_BLOCK_DE))


def invites_to(app, cohort_id: int, *addresses: str):
    """Queue the cohort's invites; the invite to the lab's first half-day each address received."""
    with app.app_context():
        invites.queue_invites(db.session.get(Cohort, cohort_id))
        return [first_block(mail_to(address)) for address in addresses]


def test_a_german_recipient_gets_the_invite_in_german(app, ana_speaks_german):
    message, = invites_to(app, ana_speaks_german[0], "ana@example.com")
    assert message["Subject"] == f"Einladung: {LAB_BLOCK_DE}"
    text = message.get_body(("plain",)).get_content()
    assert "Zwei Fachleute in einem Raum" in text  # the block's sessions, from the curriculum's German text
    assert "Nehmen Sie die Einladung an, um den Termin in Ihren Kalender einzutragen." in text
    assert "Öffnen Sie das Lab aus dem Kurs „Mentoring course“ in Ihrer Lernplattform." in text
    assert "https://tool.test/lti/" in text  # the link back to the lab
    html = message.get_body(("html",)).get_content()
    assert '<html lang="de">' in html and "Nehmen Sie die Einladung an" in html
    assert message["Date"] and message["Message-ID"]


def test_the_german_invite_shows_the_day_and_time_in_german(app, ana_speaks_german):
    message, = invites_to(app, ana_speaks_german[0], "ana@example.com")
    text = message.get_body(("plain",)).get_content()
    weekday = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"][LAB_DAY.weekday()]
    assert f"{weekday}, {LAB_DAY.day}. " in text and "(Europe/Berlin)" in text


def test_an_english_recipient_of_the_same_event_gets_english(app, ana_speaks_german):
    message, = invites_to(app, ana_speaks_german[0], "ben@example.com")
    assert message["Subject"] == f"Invitation: {LAB_BLOCK}"
    assert "Accept the invitation to add it to your calendar." in message.get_body(("plain",)).get_content()


def test_the_event_is_the_same_valid_request_whatever_the_language(app, ana_speaks_german):
    german, english = invites_to(app, ana_speaks_german[0], "ana@example.com", "ben@example.com")
    calendars = [parse_calendar(calendar_part(m)) for m in (german, english)]  # icalendar and vobject agree
    assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST"]
    de, en = (c.walk("VEVENT")[0] for c in calendars)
    for field in ("UID", "SEQUENCE", "DTSTART", "DTEND", "ORGANIZER", "LOCATION"):
        assert de[field].to_ical() == en[field].to_ical(), field
    assert {str(a) for a in de["ATTENDEE"]} == {str(a) for a in en["ATTENDEE"]}
    assert "mailto:ana@example.com" in {str(a) for a in de["ATTENDEE"]}
    assert (str(de["SUMMARY"]), str(en["SUMMARY"])) == (LAB_BLOCK_DE, LAB_BLOCK)
    assert "Zwei Fachleute in einem Raum" in str(de["DESCRIPTION"])
    assert "Two experts in one room" in str(en["DESCRIPTION"])


def test_a_german_recipient_gets_updates_in_german(app, ana_speaks_german):
    cohort_id, _ = ana_speaks_german
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        invites.queue_invites(cohort)
        before = db.session.execute(db.select(db.func.max(OutboxMessage.id))).scalar()
        cohort.venue = "Raum Galilei"
        db.session.commit()
        invites.queue_invites(cohort)
        message = first_block(mail_to("ana@example.com", before))
    assert message["Subject"] == f"Aktualisiert: {LAB_BLOCK_DE}"
    text = message.get_body(("plain",)).get_content()
    assert "Raum Galilei" in text and "Dies aktualisiert den Termin, der bereits in Ihrem Kalender steht." in text


def test_a_german_learner_sees_the_events_in_german_and_their_versions_stay(app, ana_speaks_german):
    cohort_id, learners = ana_speaks_german
    ana = learners["ana"]
    home = ana.get("/learner/").get_data(as_text=True)
    assert LAB_BLOCK_DE in home and "Gegenseitiges Mentoring: Ana &amp; Ben" in home
    assert LAB_BLOCK in learners["ben"].get("/learner/").get_data(as_text=True)
    ana.post(f"/learner/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(ana.get("/learner/"))})
    token = ana.get("/learner/").get_data(as_text=True).split("/calendar/")[1].split("</code>")[0]
    feed = parse_calendar(app.test_client().get("/calendar/" + token).data)  # no session: Ana's last launch
    assert LAB_BLOCK_DE in [str(e["SUMMARY"]) for e in feed.walk("VEVENT")]

    def sequences():
        return dict(db.session.execute(db.select(CalendarEvent.uid, CalendarEvent.sequence)).all())

    with app.test_request_context(headers={"Accept-Language": "de"}), app.app_context():
        before = sequences()
        calendar_events.record_versions(db.session.get(Cohort, cohort_id))  # saved from a German page
        assert sequences() == before  # versions are kept in the default language: nothing "changed"


def test_the_publish_preview_names_each_persons_events_in_their_language(app, ana_speaks_german):
    from lti_tool.models import Participant

    cohort_id, _ = ana_speaks_german
    with app.app_context():
        people = {p.user.sub: p for p in db.session.execute(db.select(Participant)).scalars()}
        people["cleo"].availability = ["tue-10"]  # so Ana and Cleo share a weekly time
        db.session.commit()
        events = calendar_events.events_if_published(db.session.get(Cohort, cohort_id),
                                                     [[people["ana"].id, people["cleo"].id]])
        ana, cleo = ([e.summary for e in events[people[sub].id]] for sub in ("ana", "cleo"))
    assert LAB_BLOCK_DE in ana and "Gegenseitiges Mentoring: Ana & Cleo" in ana
    assert LAB_BLOCK in cleo and "Reciprocal mentoring: Ana & Cleo" in cleo
