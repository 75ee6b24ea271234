"""Helpers for scheduling tests: a loopback SMTP inbox, free ports, and the outbox read back as calendars.

Every calendar part is parsed with icalendar and with vobject (an independent parser), and the two
must agree on METHOD, UID, SEQUENCE and STATUS.
"""
from __future__ import annotations

import email
import socket
from dataclasses import dataclass
from datetime import date, timedelta
from email import policy

import icalendar
import vobject

from lti_tool.extensions import db
from lti_tool.models import OutboxMessage

LAB_DAY = date.today() + timedelta(days=40)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sent:
    to: str
    subject: str
    status: str
    method: str
    events: list  # icalendar VEVENTs

    @property
    def event(self):
        return self.events[0]

    @property
    def uid(self) -> str:
        return str(self.event["UID"])

    @property
    def sequence(self) -> int:
        return int(self.event["SEQUENCE"])

    @property
    def attendees(self) -> set[str]:
        found = self.event.get("ATTENDEE", [])
        return {str(a).removeprefix("mailto:") for a in (found if isinstance(found, list) else [found])}


def calendar_part(message) -> bytes:
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_payload(decode=True)


def parse_calendar(data: bytes) -> icalendar.Calendar:
    """icalendar's reading, checked against vobject's."""
    calendar = icalendar.Calendar.from_ical(data)
    other = vobject.readOne(data.decode())
    events = calendar.walk("VEVENT")
    assert len(other.vevent_list) == len(events)
    for ours, theirs in zip(events, other.vevent_list):
        assert theirs.uid.value == str(ours["UID"])
        assert int(theirs.sequence.value) == int(ours["SEQUENCE"])
        assert theirs.status.value == str(ours["STATUS"])
    if "METHOD" in calendar:
        assert other.method.value == str(calendar["METHOD"])
    return calendar


def outbox_since(last_id: int = 0) -> list[Sent]:
    """The calendar messages after ``last_id`` (inside an app context), oldest first; plain emails
    (a partner's "has left the lab" news) are left out."""
    out = []
    for row in db.session.execute(db.select(OutboxMessage).where(OutboxMessage.id > last_id,
                                                                 OutboxMessage.kind.like("invite_%"))
                                  .order_by(OutboxMessage.id)).scalars():
        message = email.message_from_string(row.body, policy=policy.default)
        calendar = parse_calendar(calendar_part(message))
        out.append(Sent(row.recipient, row.subject, row.status, str(calendar["METHOD"]), calendar.walk("VEVENT")))
    return out


def last_outbox_id() -> int:
    return db.session.execute(db.select(db.func.max(OutboxMessage.id))).scalar() or 0


def withdraw_as_learner(client, cohort_id) -> None:
    """The learner's own "I can no longer take part", confirmed on its page."""
    from tests.conftest import csrf_token_in

    page = client.get(f"/learner/cohorts/{cohort_id}/withdraw")
    response = client.post(f"/learner/cohorts/{cohort_id}/withdraw", data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 302
