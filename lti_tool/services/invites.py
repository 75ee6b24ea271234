"""The lab and its follow-ups as calendar events, invites through the outbox, and private feeds.

Events come from the curriculum laid onto the cohort's dates (one per half-day block, or one per
session); each team gets a follow-up series at a slot both partners marked free. UIDs are stable;
SEQUENCE rises when anything that matters changes. Every message is written to the outbox first,
then sent over SMTP (``SMTP_URL``) or written as an .eml file (``OUTBOX_DIR``) without it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
import ssl
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from email import message_from_string
from email import policy as email_policy
from email.utils import parseaddr

from flask import current_app
from flask_babel import lazy_gettext as _l

from lab_curriculum import half_day_blocks, schedule

from ..extensions import db
from ..lti.registration import public_url
from ..jobs import enqueue
from ..models import (CalendarEvent, CalendarFeed, Cohort, FollowUpOverride, LtiUser, OutboxMessage, Participant,
                      Team, utcnow)
from ..scheduling import Attendee, EventSpec, Person, build_calendar, stable_uid
from . import curriculum as cur
from . import teams
from .slots import SLOTS, slot_label, slot_parts
from ..scheduling.imip import DeliveryError, SmtpSettings, build_invite_message, send_message, write_eml

log = logging.getLogger(__name__)
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
    curriculum = cur.curriculum()
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


def follow_up_slot(cohort: Cohort, members: list[Participant], chosen: str | None = None) -> datetime | None:
    """The first meeting: at the facilitator's ``chosen`` slot, else the first slot every member marked
    free, from a week after the lab."""
    shared = set.intersection(*(set(m.availability or []) for m in members)) if members else set()
    candidates = [p for p in map(slot_parts, [chosen] if chosen else shared) if p]
    if not candidates or not cohort.day_two:
        return None
    day, hour = min(candidates)
    first = cohort.day_two + timedelta(days=7)
    first += timedelta(days=(day - first.weekday()) % 7)
    return datetime(first.year, first.month, first.day, hour, tzinfo=ZoneInfo(cohort.timezone))


def _team_spec(cohort: Cohort, team: Team, organizer: Person) -> EventSpec | None:
    f = cur.curriculum().follow_up
    people = _people(cohort, list(team.member_ids))
    start = follow_up_slot(cohort, [p for p, _ in people], team.follow_up_slot)
    if start is None:
        return None
    names = " & ".join(user.name or "Participant" for _, user in people)
    return EventSpec(
        uid=stable_uid("team", team.id, "follow-up"), sequence=0, start=start,
        end=start + timedelta(minutes=f.duration_minutes), summary=f"Reciprocal mentoring: {names}",
        organizer=organizer, attendees=_attendees(people), description="\n".join(f.agenda),
        location="", url=cohort.video_link or public_url("lti.home"),
        rrule={"freq": "weekly", "interval": f.interval_weeks, "count": f.count},
    )


def follow_up_specs(cohort: Cohort) -> list[EventSpec]:
    organizer = _organizer(cohort)
    return [spec for spec in (_team_spec(cohort, team, organizer) for team in teams.active_teams(cohort)) if spec]


def _fingerprint(spec: EventSpec) -> str:
    parts = [spec.start.isoformat(), spec.end.isoformat(), spec.summary, spec.location, spec.url, spec.status,
             repr(spec.rrule), ",".join(sorted(a.email for a in spec.attendees))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _rows(cohort: Cohort) -> dict[str, CalendarEvent]:
    return {r.uid: r for r in db.session.execute(db.select(CalendarEvent)
                                                 .where(CalendarEvent.cohort_id == cohort.id)).scalars()}


def _changed(row: CalendarEvent | None, spec: EventSpec) -> bool:
    return row is None or row.fingerprint != _fingerprint(spec) or row.status != spec.status


def versioned(cohort: Cohort, specs: list[EventSpec], kind: str,
              rows: dict[str, CalendarEvent] | None = None) -> list[tuple[EventSpec, bool]]:
    """Record each event's version: a new row, or SEQUENCE raised when it changed. Says which changed.

    This is a write, made by the actions that change events (saving a cohort, publishing teams, a
    withdrawal, follow-up edits, sending); pages and downloads only read (``current_specs``).
    """
    rows = _rows(cohort) if rows is None else rows
    out = []
    for spec in specs:
        row = rows.get(spec.uid)
        changed = _changed(row, spec)
        if row is None:
            row = CalendarEvent(cohort_id=cohort.id, uid=spec.uid, kind=kind, sequence=0,
                                fingerprint=_fingerprint(spec), status=spec.status)
            db.session.add(row)
            rows[spec.uid] = row
        elif changed:  # (a cancelled event that comes back, e.g. blocks -> sessions -> blocks, counts too)
            row.sequence, row.fingerprint, row.updated_at = row.sequence + 1, _fingerprint(spec), utcnow()
            row.status = spec.status
        out.append((dataclasses.replace(spec, sequence=row.sequence), changed))
    db.session.commit()
    return out


def all_specs(cohort: Cohort) -> list[tuple[EventSpec, bool]]:
    """Record the versions of every current event of the cohort (a write; see ``versioned``)."""
    rows = _rows(cohort)
    return (versioned(cohort, lab_specs(cohort), "lab", rows)
            + versioned(cohort, follow_up_specs(cohort), "follow_up", rows))


def record_versions(cohort: Cohort) -> None:
    """The explicit versioning step after a change, so pages show rows (links) for every event."""
    all_specs(cohort)


def current_specs(cohort: Cohort) -> list[tuple[EventSpec, CalendarEvent | None]]:
    """Every current event with the SEQUENCE it has (or will get when next recorded), without writing."""
    rows = _rows(cohort)
    out = []
    for spec in [*lab_specs(cohort), *follow_up_specs(cohort)]:
        row = rows.get(spec.uid)
        sequence = 0 if row is None else row.sequence + (1 if _changed(row, spec) else 0)
        out.append((dataclasses.replace(spec, sequence=sequence), row))
    return out


def _utc_naive(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def _aware(dt: datetime, tz) -> datetime:
    return dt.replace(tzinfo=timezone.utc).astimezone(tz)


def _overrides(row: CalendarEvent) -> list[FollowUpOverride]:
    return list(db.session.execute(db.select(FollowUpOverride).where(FollowUpOverride.event_id == row.id)
                                   .order_by(FollowUpOverride.recurrence_id)).scalars())


def _override_spec(master: EventSpec, override: FollowUpOverride) -> EventSpec:
    """One meeting of a series as its own VEVENT: same UID, its RECURRENCE-ID, its own SEQUENCE."""
    tz = master.start.tzinfo
    original = _aware(override.recurrence_id, tz)
    start = original if override.cancelled else _aware(override.start, tz)
    return dataclasses.replace(master, sequence=override.sequence, start=start, end=start + (master.end - master.start),
                               rrule=None, recurrence_id=original, exdates=(),
                               status="CANCELLED" if override.cancelled else "CONFIRMED")


def _with_overrides(master: EventSpec, overrides: list[FollowUpOverride]) -> list[EventSpec]:
    """A series as calendars should hold it: cancelled meetings as EXDATE, moved ones as overrides."""
    if not overrides:
        return [master]
    tz = master.start.tzinfo
    exdates = tuple(_aware(o.recurrence_id, tz) for o in overrides if o.cancelled)
    return [dataclasses.replace(master, exdates=exdates),
            *(_override_spec(master, o) for o in overrides if not o.cancelled)]


def events_for(cohort: Cohort, participant: Participant | None = None) -> list[tuple[CalendarEvent | None, EventSpec]]:
    """The cohort's current events (or one participant's), each with its row if recorded (for links and
    overrides). Read only: a page or download never changes an event's version."""
    events = current_specs(cohort)
    if participant is not None:
        user = db.session.get(LtiUser, participant.user_id)
        events = [(s, row) for s, row in events if participant.status == "enrolled"
                  and any(a.email == user.contact_email for a in s.attendees)]
    return [(row, spec) for spec, row in events]


def _publish(cohort: Cohort, events: list[tuple[CalendarEvent, EventSpec]]) -> bytes:
    # DTSTAMP = the last change, not "now": an unchanged calendar stays byte-identical (stable ETag).
    last_change = max(
        db.session.execute(db.select(db.func.max(CalendarEvent.updated_at))
                           .where(CalendarEvent.cohort_id == cohort.id)).scalar() or datetime.min,
        db.session.execute(db.select(db.func.max(FollowUpOverride.updated_at))
                           .where(FollowUpOverride.cohort_id == cohort.id)).scalar() or datetime.min)
    stamp = (utcnow() if last_change == datetime.min else last_change).replace(tzinfo=timezone.utc, microsecond=0)
    specs = [s for row, spec in events for s in _with_overrides(spec, _overrides(row) if row else [])]
    return build_calendar(specs, method="PUBLISH", dtstamp=stamp).to_ical()


def calendar_for(cohort: Cohort, participant: Participant | None = None) -> bytes:
    """A PUBLISH calendar: the whole cohort, or one participant's events (with moved and cancelled meetings)."""
    return _publish(cohort, events_for(cohort, participant))


def event_calendar(cohort: Cohort, event_id: int, participant: Participant | None = None) -> bytes | None:
    """One event as a PUBLISH calendar, if it is a current event of this cohort (and the participant's)."""
    events = [(row, spec) for row, spec in events_for(cohort, participant) if row is not None and row.id == event_id]
    return _publish(cohort, events) if events else None


def current_feed(participant: Participant | None, cohort: Cohort) -> CalendarFeed | None:
    """The live private feed of a learner, or with no participant the cohort's whole-lab feed (read only)."""
    query = db.select(CalendarFeed).where(CalendarFeed.cohort_id == cohort.id, CalendarFeed.revoked_at.is_(None))
    query = query.where(CalendarFeed.participant_id == participant.id) if participant \
        else query.where(CalendarFeed.participant_id.is_(None))
    return db.session.execute(query).scalars().first()


def feed_for(participant: Participant | None, cohort: Cohort, rotate: bool = False) -> CalendarFeed:
    """The private feed (created on first use); ``rotate`` revokes the old address."""
    feed = current_feed(participant, cohort)
    if feed is not None and rotate:
        feed.revoked_at, feed = utcnow(), None
    if feed is None:
        feed = CalendarFeed(token=secrets.token_urlsafe(24), cohort_id=cohort.id,
                            participant_id=participant.id if participant else None)
        db.session.add(feed)
    db.session.commit()
    return feed


# --- the facilitator changes a team's follow-ups --------------------------------------------------

class FollowUpError(ValueError):
    """A change the facilitator asked for that cannot be made; ``field`` names the form field."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, message




def _series(team: Team) -> tuple[Cohort, CalendarEvent, EventSpec]:
    cohort = db.session.get(Cohort, team.cohort_id)
    spec = _team_spec(cohort, team, _organizer(cohort)) if team.status == "active" else None
    if spec is None:
        raise FollowUpError("team", _l("This team has no follow-up series yet: the partners share no free time. "
                                       "Choose a weekly time both marked free."))
    rows = _rows(cohort)
    (spec, _), = versioned(cohort, [spec], "follow_up", rows)
    row = rows[spec.uid]
    return cohort, row, spec


def meetings(spec: EventSpec) -> list[datetime]:
    """The series' meetings in local time (the same wall-clock hour across daylight-saving changes)."""
    rule = spec.rrule or {}
    return [spec.start + timedelta(weeks=rule.get("interval", 1) * k) for k in range(rule.get("count", 1))]


def _meeting_on(spec: EventSpec, row: CalendarEvent, day: date, now: datetime) -> tuple[datetime, FollowUpOverride]:
    matches = [m for m in meetings(spec) if m.date() == day]
    if not matches:
        dates = ", ".join(m.strftime("%Y-%m-%d") for m in meetings(spec))
        raise FollowUpError("occurrence", _l("This team has no follow-up meeting on %(day)s. Their meetings are on "
                                             "%(dates)s.", day=day.isoformat(), dates=dates))
    original = matches[0]
    if original <= now:
        raise FollowUpError("occurrence", _l("That meeting has already taken place."))
    override = db.session.execute(db.select(FollowUpOverride).where(
        FollowUpOverride.event_id == row.id, FollowUpOverride.recurrence_id == _utc_naive(original))).scalar_one_or_none()
    if override is None:
        override = FollowUpOverride(cohort_id=row.cohort_id, event_id=row.id, recurrence_id=_utc_naive(original),
                                    sequence=0)
    return original, override


def _save_override(override: FollowUpOverride, row: CalendarEvent, *, start: datetime | None, cancelled: bool) -> None:
    override.sequence = max(row.sequence, override.sequence or 0) + 1  # SEQUENCE only ever rises
    override.start, override.cancelled = (_utc_naive(start) if start else None), cancelled
    override.updated_at = utcnow()
    db.session.add(override)
    db.session.commit()


def move_meeting(team: Team, day: date, new_time: time, new_day: date | None = None,
                 now: datetime | None = None) -> int:
    """Move one meeting of the team's series (RECURRENCE-ID override); returns messages queued."""
    now = now or datetime.now(timezone.utc)
    cohort, row, spec = _series(team)
    original, override = _meeting_on(spec, row, day, now)
    start = datetime.combine(new_day or day, new_time, tzinfo=spec.start.tzinfo)
    if start <= now:
        raise FollowUpError("new_time", _l("That time is in the past. Choose a time from now on."))
    _save_override(override, row, start=start, cancelled=False)
    return send_updates(cohort)


def cancel_meeting(team: Team, day: date, now: datetime | None = None) -> int:
    """Cancel one meeting of the team's series, the others stay; returns messages queued."""
    now = now or datetime.now(timezone.utc)
    cohort, row, spec = _series(team)
    original, override = _meeting_on(spec, row, day, now)
    if override.cancelled:
        raise FollowUpError("occurrence", _l("That meeting is already cancelled."))
    _save_override(override, row, start=None, cancelled=True)
    return send_updates(cohort)


def set_series_slot(team: Team, slot: str) -> int:
    """Move the whole series to a weekly slot every member marked free (an update of the same event)."""
    cohort = db.session.get(Cohort, team.cohort_id)
    people = _people(cohort, list(team.member_ids))
    if slot_parts(slot or "") is None:
        raise FollowUpError("slot", _l("Choose a weekday and hour."))
    missing = [user.name or "Participant" for p, user in people if slot not in (p.availability or [])]
    if len(missing) == len(people):
        raise FollowUpError("slot", _l("Nobody in this team marked %(slot)s as free. Choose a time both partners "
                                       "marked.", slot=slot_label(slot)))
    if missing:
        raise FollowUpError("slot", _l("%(names)s did not mark %(slot)s as free. Choose a time both partners marked.",
                                       names=" and ".join(missing), slot=slot_label(slot)))
    if team.follow_up_slot == slot:
        return 0
    team.follow_up_slot = slot
    row = db.session.execute(db.select(CalendarEvent).where(
        CalendarEvent.uid == stable_uid("team", team.id, "follow-up"))).scalar_one_or_none()
    if row is not None:  # exceptions of the old weekly time no longer match a meeting (Outlook drops them too)
        db.session.execute(db.delete(FollowUpOverride).where(FollowUpOverride.event_id == row.id))
    db.session.commit()
    return send_updates(cohort)


def follow_up_overview(cohort: Cohort) -> list[dict]:
    """Per active team: names, shared free slots, chosen slot, and each meeting with its change."""
    organizer, out = _organizer(cohort), []
    for team in teams.active_teams(cohort):
        people = _people(cohort, list(team.member_ids))
        shared = set.intersection(*(set(p.availability or []) for p, _ in people)) if people else set()
        spec = _team_spec(cohort, team, organizer)
        row = db.session.execute(db.select(CalendarEvent).where(
            CalendarEvent.uid == stable_uid("team", team.id, "follow-up"))).scalar_one_or_none()
        changes = {o.recurrence_id: o for o in (_overrides(row) if row else [])}
        tz = ZoneInfo(cohort.timezone)
        rows = [(m, changes.get(_utc_naive(m))) for m in (meetings(spec) if spec else [])]
        out.append({"team": team, "names": " & ".join(u.name or "Participant" for _, u in people), "event": row,
                    "slot": slot_label(team.follow_up_slot) if team.follow_up_slot else None,
                    "shared": [slot_label(s) for s in SLOTS if s in shared],
                    "meetings": [(m, o, _aware(o.start, tz) if o and o.start else None) for m, o in rows]})
    return out


# --- what goes out by mail ---------------------------------------------------------------------

def _spec_to_json(spec: EventSpec) -> dict:
    """An event as its attendees were sent it (kept to build their cancellation later)."""
    data = dataclasses.asdict(spec)
    for name in ("start", "end"):
        data[name] = {"at": getattr(spec, name).isoformat(), "tz": str(getattr(spec, name).tzinfo)}
    for name in ("recurrence_id", "exdates", "created", "last_modified"):
        data.pop(name)
    return data


def _spec_from_json(data: dict) -> EventSpec:
    data = dict(data)
    for name in ("start", "end"):
        data[name] = datetime.fromisoformat(data[name]["at"]).astimezone(ZoneInfo(data[name]["tz"]))
    data["organizer"] = Person(**data["organizer"])
    data["attendees"] = tuple(Attendee(**a) for a in data["attendees"])
    data["categories"] = tuple(data.get("categories") or ())
    return EventSpec(**data)


def _queue_message(cohort: Cohort, events: list[EventSpec], method: str, recipients, subject: str,
                   lead: str) -> int:
    """One iMIP message per recipient, written to the outbox (delivery happens later)."""
    calendar = build_calendar(events, method=method).to_ical()
    spec = events[0]
    when = spec.start.strftime("%A %d %B %Y, %H:%M %Z")
    sender = current_app.config["MAIL_FROM"]
    for attendee in recipients:
        text = f"{spec.summary}\n{when}\n{spec.location or spec.url}\n\n{spec.description}\n\n{lead}"
        html = (f"<p><strong>{_esc(spec.summary)}</strong><br>{_esc(when)}<br>{_esc(spec.location or spec.url)}</p>"
                f"<pre>{_esc(spec.description)}</pre><p>{_esc(lead)}</p>")
        message = build_invite_message(calendar, sender=sender, recipient=attendee.email, subject=subject,
                                       text_body=text, html_body=html, method=method)
        db.session.add(OutboxMessage(cohort_id=cohort.id, recipient=attendee.email, subject=str(message["Subject"]),
                                     body=message.as_string(policy=email_policy.SMTP)))
    return len(recipients)


CANCEL_LEAD = "This meeting is cancelled; your calendar removes it when you open this message."


def _queue_changes(cohort: Cohort, *, only_invited: bool) -> int:
    """Mail what attendees do not have yet: invites (unless ``only_invited``), updates of events they
    were sent, a cancellation to anyone taken off an event, and cancellations of events that no
    longer exist (a dissolved team's series). Returns the number of messages queued."""
    count = 0
    current = all_specs(cohort)
    rows = _rows(cohort)
    for spec, _ in current:
        row = rows[spec.uid]
        overrides = _overrides(row)
        if row.sent_sequence != row.sequence:
            if row.sent_sequence is None and only_invited:
                continue
            earlier = _spec_from_json(row.sent_spec) if row.sent_spec else None
            count += _queue_message(
                cohort, _with_overrides(spec, overrides), "REQUEST", spec.attendees,
                ("Updated: " if earlier else "") + spec.summary,
                "This updates the event already in your calendar." if earlier
                else "Accept the invitation to add it to your calendar.")
            now_invited = {a.email for a in spec.attendees}
            removed = tuple(a for a in (earlier.attendees if earlier else ()) if a.email not in now_invited)
            if removed:  # RFC 5546 3.2.5: the organizer cancels the event for the removed attendees only
                count += _queue_message(cohort, [dataclasses.replace(earlier, sequence=spec.sequence, attendees=removed)],
                                        "CANCEL", removed, f"Cancelled: {earlier.summary}", CANCEL_LEAD)
            row.sent_sequence, row.sent_spec = spec.sequence, _spec_to_json(spec)
            for override in overrides:
                override.sent_sequence = override.sequence
        elif row.sent_sequence is not None:
            for override in overrides:
                if override.sent_sequence == override.sequence:
                    continue
                single = _override_spec(spec, override)
                day = single.recurrence_id.strftime("%d %B %Y")
                if override.cancelled:
                    count += _queue_message(cohort, [single], "CANCEL", spec.attendees,
                                            f"Cancelled: {spec.summary} on {day}", CANCEL_LEAD)
                else:
                    count += _queue_message(cohort, [single], "REQUEST", spec.attendees,
                                            f"Moved: {spec.summary} on {day}",
                                            "Only this meeting moves; the rest of the series stays as it is.")
                override.sent_sequence = override.sequence
    live = {spec.uid for spec, _ in current}
    for row in rows.values():
        if row.uid in live or row.status == "CANCELLED":
            continue
        row.status, row.sequence, row.updated_at = "CANCELLED", row.sequence + 1, utcnow()
        if row.sent_spec is not None:
            earlier = _spec_from_json(row.sent_spec)
            count += _queue_message(cohort, [dataclasses.replace(earlier, sequence=row.sequence, status="CANCELLED")],
                                    "CANCEL", earlier.attendees, f"Cancelled: {earlier.summary}", CANCEL_LEAD)
            row.sent_sequence = row.sequence
    db.session.commit()
    return count


def queue_invites(cohort: Cohort) -> int:
    """Outbox an invite, update or cancellation for every event whose current version its attendees lack."""
    return _queue_changes(cohort, only_invited=False)


def deliver_later(cohort: Cohort) -> str | None:
    """Send the cohort's outbox through the job queue (RQ with REDIS_URL, inline without)."""
    return enqueue("lti_tool.services.invites.deliver_outbox", cohort.id)


def send_updates(cohort: Cohort) -> int:
    """After a change: tell people who already have an event (updates and cancellations only), in the background."""
    queued = _queue_changes(cohort, only_invited=True)
    if queued:
        deliver_later(cohort)
    return queued


def participant_left(participant: Participant) -> int:
    """Someone withdrew (``withdrawal.withdraw`` calls this after marking them and dissolving their pair):
    they get a cancellation of every event they were invited to; everyone else on those events an
    update without them; the remaining partner a cancellation of the dissolved team's series."""
    log.info("participant %s left cohort %s: sending cancellations and updates", participant.id, participant.cohort_id)
    return send_updates(participant.cohort)


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
    # TLS is always verified; SMTP_CAFILE trusts a private CA (or a test's own certificate) on top.
    tls = ssl.create_default_context()
    if current_app.config.get("SMTP_CAFILE"):
        tls.load_verify_locations(cafile=current_app.config["SMTP_CAFILE"])
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
                send_message(message, settings, timeout=15, ssl_context=tls)
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


def retry(message: OutboxMessage) -> str | None:
    """Send a failed message again now (through the job queue)."""
    message.next_attempt_at = None
    db.session.commit()
    return enqueue("lti_tool.services.invites.deliver_outbox", message.cohort_id)

