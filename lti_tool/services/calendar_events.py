"""The lab and its follow-ups as calendar events: specs, their versions, calendars and private feeds.

Events come from the curriculum laid onto the cohort's dates (one per half-day block, or one per
session); each team gets a follow-up series at a slot both partners marked free. UIDs are stable;
SEQUENCE rises when anything that matters changes. Reading (``current_specs``, ``events_for``,
``calendar_for``) never writes; the actions that change things record versions (``versioned``,
``record_versions``).

Specs are built in the default language, so a version never depends on who happened to trigger it;
``localized`` gives the summary and description in a reader's language (pages, feeds, invites).
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from lab_curriculum import half_day_blocks, schedule

from ..extensions import db
from ..lti.registration import public_url
from ..models import CalendarEvent, CalendarFeed, Cohort, FollowUpOverride, LtiUser, Participant, Team, utcnow
from ..scheduling import Attendee, EventSpec, Person, build_calendar, stable_uid
from . import curriculum as cur
from . import held_invites, teams
from .outbox import recipient_locale
from .slots import slot_parts
from ..states import ParticipantStatus


def organizer_of(cohort: Cohort) -> Person:
    user = db.session.get(LtiUser, cohort.facilitator_user_id) if cohort.facilitator_user_id else None
    if user is not None and user.contact_email:
        return Person(user.name or "Facilitator", user.contact_email)
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    return Person(name or "Reciprocal Mentoring Lab", address)


def people_of(cohort: Cohort, ids: list[int] | None = None) -> list[tuple[Participant, LtiUser]]:
    query = (db.select(Participant, LtiUser).join(LtiUser, LtiUser.id == Participant.user_id)
             .where(Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.ENROLLED).order_by(Participant.id))
    if ids is not None:
        query = query.where(Participant.id.in_(ids))
    return list(db.session.execute(query).all())


def _attendees(people) -> tuple[Attendee, ...]:
    return tuple(Attendee(user.name or "Participant", user.contact_email) for _, user in people if user.contact_email)


def _default_locale() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


def _block_title(title: str, day: int, label: str) -> str:
    if label == "morning":
        return _("%(title)s: day %(day)s, morning", title=title, day=day)
    return _("%(title)s: day %(day)s, afternoon", title=title, day=day)


def lab_specs(cohort: Cohort, locale: str | None = None) -> list[EventSpec]:
    """The lab's own events: plenary time in half-day blocks (default) or one per session; their text in
    ``locale`` (default: the default language, which versions are recorded in)."""
    if not (cohort.day_one and cohort.day_two):
        return []
    with force_locale(locale or _default_locale()):
        return _lab_specs(cohort, cur.curriculum())


def _lab_specs(cohort: Cohort, curriculum) -> list[EventSpec]:
    scheduled = schedule(curriculum, [cohort.day_one, cohort.day_two], cohort.timezone)
    attendees = _attendees(people_of(cohort))
    organizer = organizer_of(cohort)
    url = cohort.video_link or public_url("lti.home")
    specs = []
    if cohort.schedule_mode == "sessions":
        units = [(s.session.id, s.session.title, s.start, s.end, [s]) for s in scheduled if not s.session.is_break]
    else:
        units = [(f"day{b.day}-{b.label}", _block_title(curriculum.title, b.day, b.label), b.start, b.end,
                  list(b.sessions)) for b in half_day_blocks(scheduled)]
    for key, title, start, end, sessions in units:
        agenda = "\n".join(f"{s.start:%H:%M}-{s.end:%H:%M}  {s.session.title}" for s in sessions)
        description = (f"{cohort.name}\n\n{agenda}\n\n"
                       + _("Open the lab in your course: %(url)s", url=public_url("lti.home")))
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


def team_spec(cohort: Cohort, team: Team, organizer: Person,
              everyone: list[tuple[Participant, LtiUser]] | None = None, locale: str | None = None) -> EventSpec | None:
    """A team's follow-up series; ``everyone`` (``people_of(cohort)``, when the caller has it) saves a query.
    Its text in ``locale`` (default: the default language, which versions are recorded in)."""
    with force_locale(locale or _default_locale()):
        return _team_spec(cohort, team, organizer, everyone)


def _team_spec(cohort: Cohort, team: Team, organizer: Person,
               everyone: list[tuple[Participant, LtiUser]] | None) -> EventSpec | None:
    f = cur.curriculum().follow_up
    if everyone is None:
        people = people_of(cohort, list(team.member_ids))
    else:
        members = set(team.member_ids)
        people = [(p, user) for p, user in everyone if p.id in members]
    start = follow_up_slot(cohort, [p for p, _ in people], team.follow_up_slot)
    if start is None:
        return None
    names = " & ".join(user.name or "Participant" for _, user in people)
    return EventSpec(
        uid=stable_uid("team", team.id, "follow-up"), sequence=0, start=start,
        end=start + timedelta(minutes=f.duration_minutes), summary=_("Reciprocal mentoring: %(names)s", names=names),
        organizer=organizer, attendees=_attendees(people), description="\n".join(f.agenda),
        location="", url=cohort.video_link or public_url("lti.home"),
        rrule={"freq": "weekly", "interval": f.interval_weeks, "count": f.count},
    )


def events_if_published(cohort: Cohort, proposed: list[list[int]]) -> dict[int, list[EventSpec]]:
    """Read only: participant id -> the events a publish of these teams would invite them to, each in
    that person's language (as their invite would name it).

    The lab's events for everyone enrolled who has not been sent their current version, and a follow-up
    series for each proposed team that is not already an active team (kept teams keep their series).
    """
    versions = {row.uid: (row.id, row.sequence) for row in rows_of(cohort).values()}
    current = set(versions.values())
    sent = {(event_id, email) for (event_id, email), held in held_invites.expected(cohort.id).items()
            if held.holds and (event_id, held.sequence) in current}  # who holds (or is sent) its version
    people = people_of(cohort)
    out: dict[int, list[EventSpec]] = {p.id: [] for p, _ in people}
    email_of = {p.id: (user.contact_email or "").lower() for p, user in people}
    locale_of = {p.id: recipient_locale(user) for p, user in people}
    localize = localizer(cohort)
    for spec in lab_specs(cohort):
        event_id = versions.get(spec.uid, (None, None))[0]
        for pid in out:
            if (event_id, email_of[pid]) not in sent:
                out[pid].extend(localize([spec], locale_of[pid]))
    kept = {frozenset(team.member_ids) for team in teams.active_teams(cohort)}
    organizer = organizer_of(cohort)
    for members in proposed:
        if frozenset(members) in kept:
            continue
        team = Team(cohort_id=cohort.id, member_ids=list(members))
        for pid in members:
            spec = team_spec(cohort, team, organizer, people, locale_of[pid]) if pid in out else None
            if spec is not None:
                out[pid].append(spec)
    return out


def follow_up_specs(cohort: Cohort, locale: str | None = None) -> list[EventSpec]:
    organizer, everyone = organizer_of(cohort), people_of(cohort)  # one query for every team's people
    return [spec for spec in (team_spec(cohort, team, organizer, everyone, locale)
                              for team in teams.active_teams(cohort)) if spec]


def localizer(cohort: Cohort):
    """``localize(specs, locale)``: the events with summary and description in ``locale`` (the reader's
    when None). Everything else (times, UID, SEQUENCE, attendees) stays; an event that no longer exists
    (a dissolved team's series, being cancelled) keeps the text it was sent with. Each language's text
    is built once per localizer."""
    texts: dict[str, dict[str, tuple[str, str]]] = {}

    def localize(specs: list[EventSpec], locale: str | None = None) -> list[EventSpec]:
        locale = str(locale or get_locale() or _default_locale())
        if locale == _default_locale():
            return list(specs)
        if locale not in texts:
            texts[locale] = {s.uid: (s.summary, s.description)
                             for s in [*lab_specs(cohort, locale), *follow_up_specs(cohort, locale)]}
        known = texts[locale]
        return [dataclasses.replace(s, summary=known[s.uid][0], description=known[s.uid][1]) if s.uid in known else s
                for s in specs]
    return localize


def _fingerprint(spec: EventSpec) -> str:
    parts = [spec.start.isoformat(), spec.end.isoformat(), spec.summary, spec.location, spec.url, spec.status,
             repr(spec.rrule), ",".join(sorted(a.email for a in spec.attendees))]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def rows_of(cohort: Cohort) -> dict[str, CalendarEvent]:
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
    rows = rows_of(cohort) if rows is None else rows
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
    rows = rows_of(cohort)
    return (versioned(cohort, lab_specs(cohort), "lab", rows)
            + versioned(cohort, follow_up_specs(cohort), "follow_up", rows))


def record_versions(cohort: Cohort) -> None:
    """The explicit versioning step after a change, so pages show rows (links) for every event."""
    all_specs(cohort)


def current_specs(cohort: Cohort) -> list[tuple[EventSpec, CalendarEvent | None]]:
    """Every current event with the SEQUENCE it has (or will get when next recorded), without writing."""
    rows = rows_of(cohort)
    out = []
    for spec in [*lab_specs(cohort), *follow_up_specs(cohort)]:
        row = rows.get(spec.uid)
        sequence = 0 if row is None else row.sequence + (1 if _changed(row, spec) else 0)
        out.append((dataclasses.replace(spec, sequence=sequence), row))
    return out


def utc_naive(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def aware(dt: datetime, tz) -> datetime:
    return dt.replace(tzinfo=timezone.utc).astimezone(tz)


def overrides_of(row: CalendarEvent) -> list[FollowUpOverride]:
    return list(db.session.execute(db.select(FollowUpOverride).where(FollowUpOverride.event_id == row.id)
                                   .order_by(FollowUpOverride.recurrence_id)).scalars())


def override_spec(master: EventSpec, override: FollowUpOverride) -> EventSpec:
    """One meeting of a series as its own VEVENT: same UID, its RECURRENCE-ID, its own SEQUENCE."""
    tz = master.start.tzinfo
    original = aware(override.recurrence_id, tz)
    start = original if override.cancelled else aware(override.start, tz)
    return dataclasses.replace(master, sequence=override.sequence, start=start, end=start + (master.end - master.start),
                               rrule=None, recurrence_id=original, exdates=(),
                               status="CANCELLED" if override.cancelled else "CONFIRMED")


def with_overrides(master: EventSpec, overrides: list[FollowUpOverride]) -> list[EventSpec]:
    """A series as calendars should hold it: cancelled meetings as EXDATE, moved ones as overrides."""
    if not overrides:
        return [master]
    tz = master.start.tzinfo
    exdates = tuple(aware(o.recurrence_id, tz) for o in overrides if o.cancelled)
    return [dataclasses.replace(master, exdates=exdates),
            *(override_spec(master, o) for o in overrides if not o.cancelled)]


def events_for(cohort: Cohort, participant: Participant | None = None) -> list[tuple[CalendarEvent | None, EventSpec]]:
    """The cohort's current events (or one participant's), each with its row if recorded (for links and
    overrides). Read only: a page or download never changes an event's version."""
    events = current_specs(cohort)
    if participant is not None:
        user = db.session.get(LtiUser, participant.user_id)
        events = [(s, row) for s, row in events if participant.status == ParticipantStatus.ENROLLED
                  and any(a.email == user.contact_email for a in s.attendees)]
    specs = localizer(cohort)([spec for spec, _row in events])  # in the reader's language
    return [(row, spec) for spec, (_spec, row) in zip(specs, events)]


def _publish(cohort: Cohort, events: list[tuple[CalendarEvent, EventSpec]]) -> bytes:
    # DTSTAMP = the last change, not "now": an unchanged calendar stays byte-identical (stable ETag).
    last_change = max(
        db.session.execute(db.select(db.func.max(CalendarEvent.updated_at))
                           .where(CalendarEvent.cohort_id == cohort.id)).scalar() or datetime.min,
        db.session.execute(db.select(db.func.max(FollowUpOverride.updated_at))
                           .where(FollowUpOverride.cohort_id == cohort.id)).scalar() or datetime.min)
    stamp = (utcnow() if last_change == datetime.min else last_change).replace(tzinfo=timezone.utc, microsecond=0)
    specs = [s for row, spec in events for s in with_overrides(spec, overrides_of(row) if row else [])]
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


