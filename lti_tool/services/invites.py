"""The lab and its follow-ups as calendar events, invites through the outbox, and private feeds.

Events come from the curriculum laid onto the cohort's dates (one per half-day block, or one per
session); each team gets a follow-up series at a slot both partners marked free. UIDs are stable;
SEQUENCE rises when anything that matters changes. Every message is written to the outbox first,
then sent over SMTP (``SMTP_URL``) or written as an .eml file (``OUTBOX_DIR``) without it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from email import message_from_string
from email import policy as email_policy
from email.utils import parseaddr

from flask import current_app

from lab_curriculum import half_day_blocks, load_curriculum, schedule

from ..extensions import db
from ..lti.registration import public_url
from ..models import CalendarEvent, CalendarFeed, Cohort, LtiUser, OutboxMessage, Participant, Team, utcnow
from ..scheduling import Attendee, EventSpec, Person, build_calendar, stable_uid
from ..scheduling.imip import DeliveryError, SmtpSettings, build_invite_message, send_message, write_eml

WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
RETRY_MINUTES = [1, 5, 30, 120]


def _organizer(cohort: Cohort) -> Person:
    user = db.session.get(LtiUser, cohort.facilitator_user_id) if cohort.facilitator_user_id else None
    if user is not None and user.contact_email:
        return Person(user.name or "Facilitator", user.contact_email)
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    return Person(name or "Reciprocal Mentoring Lab", address)


def _people(cohort: Cohort, ids: list[int] | None = None) -> list[tuple[Participant, LtiUser]]:
    query = (db.select(Participant, LtiUser).join(LtiUser, LtiUser.id == Participant.user_id)
             .where(Participant.cohort_id == cohort.id, Participant.status == "enrolled").order_by(Participant.id))
    if ids is not None:
        query = query.where(Participant.id.in_(ids))
    return list(db.session.execute(query).all())


def _attendees(people) -> tuple[Attendee, ...]:
    return tuple(Attendee(user.name or "Participant", user.contact_email) for _, user in people if user.contact_email)


def lab_specs(cohort: Cohort) -> list[EventSpec]:
    """The lab's own events: plenary time in half-day blocks (default) or one per session."""
    if not (cohort.day_one and cohort.day_two):
        return []
    curriculum = load_curriculum()
    scheduled = schedule(curriculum, [cohort.day_one, cohort.day_two], cohort.timezone)
    attendees = _attendees(_people(cohort))
    organizer = _organizer(cohort)
    url = cohort.video_link or public_url("lti.home")
    specs = []
    if cohort.schedule_mode == "sessions":
        units = [(s.session.id, s.session.title, s.start, s.end, [s]) for s in scheduled if not s.session.is_break]
    else:
        units = [(f"day{b.day}-{b.label}", f"{curriculum.title}: day {b.day}, {b.label}", b.start, b.end,
                  list(b.sessions)) for b in half_day_blocks(scheduled)]
    for key, title, start, end, sessions in units:
        agenda = "\n".join(f"{s.start:%H:%M}-{s.end:%H:%M}  {s.session.title}" for s in sessions)
        description = f"{cohort.name}\n\n{agenda}\n\nOpen the lab in your course: {public_url('lti.home')}"
        specs.append(EventSpec(uid=stable_uid("cohort", cohort.id, key), sequence=0, start=start, end=end,
                               summary=title, organizer=organizer, attendees=attendees, description=description,
                               location=cohort.venue or "", url=url, categories=("Reciprocal Mentoring Lab",)))
    return specs


def follow_up_slot(cohort: Cohort, members: list[Participant]) -> datetime | None:
    """The first meeting: the first slot every member marked free, from a week after the lab."""
    shared = set.intersection(*(set(m.availability or []) for m in members)) if members else set()
    if not shared or not cohort.day_two:
        return None
    day, hour = min(((WEEKDAY[s.split("-")[0]], int(s.split("-")[1])) for s in shared if s.split("-")[0] in WEEKDAY))
    first = cohort.day_two + timedelta(days=7)
    first += timedelta(days=(day - first.weekday()) % 7)
    return datetime(first.year, first.month, first.day, hour, tzinfo=ZoneInfo(cohort.timezone))


def follow_up_specs(cohort: Cohort) -> list[EventSpec]:
    curriculum = load_curriculum()
    f = curriculum.follow_up
    organizer = _organizer(cohort)
    specs = []
    for team in db.session.execute(db.select(Team).where(Team.cohort_id == cohort.id, Team.status == "active")
                                   .order_by(Team.id)).scalars():
        people = _people(cohort, list(team.member_ids))
        start = follow_up_slot(cohort, [p for p, _ in people])
        if start is None:
            continue
        names = " & ".join(user.name or "Participant" for _, user in people)
        specs.append(EventSpec(
            uid=stable_uid("team", team.id, "follow-up"), sequence=0, start=start,
            end=start + timedelta(minutes=f.duration_minutes), summary=f"Reciprocal mentoring: {names}",
            organizer=organizer, attendees=_attendees(people), description="\n".join(f.agenda),
            location="", url=cohort.video_link or public_url("lti.home"),
            rrule={"freq": "weekly", "interval": f.interval_weeks, "count": f.count},
        ))
    return specs


def _fingerprint(spec: EventSpec) -> str:
    parts = [spec.start.isoformat(), spec.end.isoformat(), spec.summary, spec.location, spec.url, spec.status,
             repr(spec.rrule), ",".join(sorted(a.email for a in spec.attendees))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def versioned(cohort: Cohort, specs: list[EventSpec], kind: str) -> list[tuple[EventSpec, bool]]:
    """Attach each event's SEQUENCE (raised when it changed); says which changed since last time."""
    out = []
    for spec in specs:
        row = db.session.execute(db.select(CalendarEvent).where(CalendarEvent.uid == spec.uid)).scalars().first()
        fingerprint = _fingerprint(spec)
        changed = row is None or row.fingerprint != fingerprint
        if row is None:
            row = CalendarEvent(cohort_id=cohort.id, uid=spec.uid, kind=kind, sequence=0, fingerprint=fingerprint)
            db.session.add(row)
        elif changed:
            row.sequence, row.fingerprint, row.updated_at = row.sequence + 1, fingerprint, utcnow()
        out.append((dataclasses.replace(spec, sequence=row.sequence), changed))
    db.session.commit()
    return out


def all_specs(cohort: Cohort) -> list[tuple[EventSpec, bool]]:
    return versioned(cohort, lab_specs(cohort), "lab") + versioned(cohort, follow_up_specs(cohort), "follow_up")


def calendar_for(cohort: Cohort, participant: Participant | None = None) -> bytes:
    """A PUBLISH calendar: the whole cohort, or one participant's events."""
    specs = [spec for spec, _ in all_specs(cohort)]
    if participant is not None:
        user = db.session.get(LtiUser, participant.user_id)
        specs = [s for s in specs if any(a.email == user.contact_email for a in s.attendees)]
    # DTSTAMP = the last change, not "now": an unchanged calendar stays byte-identical (stable ETag).
    last_change = db.session.execute(db.select(db.func.max(CalendarEvent.updated_at))
                                     .where(CalendarEvent.cohort_id == cohort.id)).scalar()
    stamp = (last_change or utcnow()).replace(tzinfo=timezone.utc, microsecond=0)
    return build_calendar(specs, method="PUBLISH", dtstamp=stamp).to_ical()


def feed_for(participant: Participant | None, cohort: Cohort, rotate: bool = False) -> CalendarFeed:
    """The private feed (created on first use); ``rotate`` revokes the old address."""
    query = db.select(CalendarFeed).where(CalendarFeed.cohort_id == cohort.id, CalendarFeed.revoked_at.is_(None))
    query = query.where(CalendarFeed.participant_id == (participant.id if participant else None)) if participant \
        else query.where(CalendarFeed.participant_id.is_(None))
    feed = db.session.execute(query).scalars().first()
    if feed is not None and rotate:
        feed.revoked_at, feed = utcnow(), None
    if feed is None:
        feed = CalendarFeed(token=secrets.token_urlsafe(24), cohort_id=cohort.id,
                            participant_id=participant.id if participant else None)
        db.session.add(feed)
    db.session.commit()
    return feed


def queue_invites(cohort: Cohort) -> int:
    """Write an invite (or update) to the outbox for every changed event and each of its attendees."""
    count = 0
    sender = current_app.config["MAIL_FROM"]
    for spec, changed in all_specs(cohort):
        if not changed:
            continue
        calendar = build_calendar([spec], method="REQUEST").to_ical()
        when = spec.start.strftime("%A %d %B %Y, %H:%M %Z")
        for attendee in spec.attendees:
            text = (f"{spec.summary}\n{when}\n{spec.location or spec.url}\n\n{spec.description}\n\n"
                    "Accept the invitation to add it to your calendar.")
            html = (f"<p><strong>{_esc(spec.summary)}</strong><br>{_esc(when)}<br>{_esc(spec.location or spec.url)}</p>"
                    f"<pre>{_esc(spec.description)}</pre>")
            message = build_invite_message(calendar, sender=sender, recipient=attendee.email,
                                           subject=("Updated: " if spec.sequence else "") + spec.summary,
                                           text_body=text, html_body=html, method="REQUEST")
            db.session.add(OutboxMessage(cohort_id=cohort.id, recipient=attendee.email, subject=str(message["Subject"]),
                                         body=message.as_string(policy=email_policy.SMTP)))
            count += 1
    db.session.commit()
    return count


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def deliver_outbox(cohort_id: int | None = None) -> dict[str, int]:
    """Send what is due: over SMTP when configured, else as .eml files. Failures are kept and retried."""
    now = utcnow()
    query = db.select(OutboxMessage).where(OutboxMessage.status.in_(("queued", "failed")),
                                           db.or_(OutboxMessage.next_attempt_at.is_(None),
                                                  OutboxMessage.next_attempt_at <= now))
    if cohort_id is not None:
        query = query.where(OutboxMessage.cohort_id == cohort_id)
    smtp_url = current_app.config.get("SMTP_URL")
    settings = SmtpSettings.from_url(smtp_url) if smtp_url else None
    result = {"sent": 0, "written": 0, "failed": 0}
    for row in db.session.execute(query.order_by(OutboxMessage.id)).scalars().all():
        message = message_from_string(row.body, policy=email_policy.default)
        row.attempts += 1
        try:
            if settings is None:
                write_eml(message, Path(current_app.config["OUTBOX_DIR"]))
                row.status = "written"
                result["written"] += 1
            else:
                send_message(message, settings, timeout=15)
                row.status = "sent"
                result["sent"] += 1
            row.sent_at, row.last_error, row.next_attempt_at = utcnow(), None, None
        except (DeliveryError, OSError) as e:
            row.status, row.last_error = "failed", str(e)
            wait = RETRY_MINUTES[min(row.attempts - 1, len(RETRY_MINUTES) - 1)]
            row.next_attempt_at = utcnow() + timedelta(minutes=wait)
            result["failed"] += 1
        db.session.commit()
    return result


def send_due(cohort_id: int | None = None) -> dict[str, int]:
    """Queue invites for changed events (one cohort or all with dates), then deliver the outbox."""
    query = db.select(Cohort).where(Cohort.day_one.is_not(None))
    if cohort_id is not None:
        query = query.where(Cohort.id == cohort_id)
    queued = sum(queue_invites(cohort) for cohort in db.session.execute(query).scalars().all())
    return {"queued": queued, **deliver_outbox(cohort_id)}


def retry(message: OutboxMessage) -> None:
    message.next_attempt_at = None
    db.session.commit()
    deliver_outbox(message.cohort_id)

