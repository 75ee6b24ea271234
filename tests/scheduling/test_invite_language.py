"""Calendar mail in each recipient's language: the subject and the text around the calendar follow the
locale of the person's last launch; the calendar itself stays the same valid iCalendar for everyone."""
from __future__ import annotations

import email
from email import policy

import pytest

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage
from lti_tool.services import invites
from tests.conftest import https_client
from tests.lti_platform import LTI, Launcher

from tests.scheduling.scheduling_helpers import LAB_DAY, calendar_part, parse_calendar

LAB_BLOCK = "Reciprocal Mentoring Lab: day 1, morning"  # the lab's first half-day block, as the calendar names it


@pytest.fixture
def ana_speaks_german(app, platform, lab):
    """Ana opens the lab again from an LMS set to German (de-DE); Ben's LMS stays English."""
    Launcher(https_client(app), platform)(
        role="learner", sub="ana", name="Ana", email="ana@example.com", custom={"cohort": "lab"},
        extra={LTI + "launch_presentation": {"document_target": "iframe", "locale": "de-DE"}})
    return lab


def mail_to(address: str, last_id: int = 0):
    rows = db.session.execute(db.select(OutboxMessage).where(
        OutboxMessage.recipient == address, OutboxMessage.id > last_id).order_by(OutboxMessage.id)).scalars()
    return [email.message_from_string(row.body, policy=policy.default) for row in rows]


def first_block(messages):
    return next(m for m in messages if str(parse_calendar(calendar_part(m)).walk("VEVENT")[0]["SUMMARY"]) == LAB_BLOCK)


def invites_to(app, cohort_id: int, *addresses: str):
    """Queue the cohort's invites; the invite to the lab's first half-day each address received."""
    with app.app_context():
        invites.queue_invites(db.session.get(Cohort, cohort_id))
        return [first_block(mail_to(address)) for address in addresses]


def test_a_german_recipient_gets_the_invite_in_german(app, ana_speaks_german):
    message, = invites_to(app, ana_speaks_german[0], "ana@example.com")
    assert message["Subject"] == f"Einladung: {LAB_BLOCK}"
    text = message.get_body(("plain",)).get_content()
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


def test_the_calendar_is_the_same_valid_request_whatever_the_language(app, ana_speaks_german):
    german, english = invites_to(app, ana_speaks_german[0], "ana@example.com", "ben@example.com")
    assert calendar_part(german) == calendar_part(english)
    calendar = parse_calendar(calendar_part(german))  # icalendar and vobject agree on it
    assert str(calendar["METHOD"]) == "REQUEST"
    assert "ana@example.com" in {str(a).removeprefix("mailto:") for a in calendar.walk("VEVENT")[0]["ATTENDEE"]}


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
    assert message["Subject"] == f"Aktualisiert: {LAB_BLOCK}"
    text = message.get_body(("plain",)).get_content()
    assert "Raum Galilei" in text and "Dies aktualisiert den Termin, der bereits in Ihrem Kalender steht." in text
