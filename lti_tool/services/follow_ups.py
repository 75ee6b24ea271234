"""The facilitator changes a team's follow-up meetings: move or cancel one meeting, or move the series.

A change to one meeting is an override with its own RECURRENCE-ID and SEQUENCE; people already
invited get an update or cancellation for that meeting only (``invites.send_updates``).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..jobs import require_queue
from ..models import CalendarEvent, Cohort, FollowUpOverride, Team, utcnow
from ..scheduling import EventSpec, stable_uid
from . import teams
from .calendar_events import aware, organizer_of, people_of, rows_of, team_spec, utc_naive, versioned
from .invites import send_updates
from .slots import SLOTS, slot_label, slot_parts
from ..states import TeamStatus



class FollowUpError(ValueError):
    """A change the facilitator asked for that cannot be made; ``field`` names the form field."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, message




def _series(team: Team) -> tuple[Cohort, CalendarEvent, EventSpec]:
    cohort = db.session.get(Cohort, team.cohort_id)
    spec = team_spec(cohort, team, organizer_of(cohort)) if team.status == TeamStatus.ACTIVE else None
    if spec is None:
        raise FollowUpError("team", _l("This team has no follow-up series yet: the partners share no free time. "
                                       "Choose a weekly time both marked free."))
    rows = rows_of(cohort)
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
        FollowUpOverride.event_id == row.id, FollowUpOverride.recurrence_id == utc_naive(original))).scalar_one_or_none()
    if override is None:
        override = FollowUpOverride(cohort_id=row.cohort_id, event_id=row.id, recurrence_id=utc_naive(original),
                                    sequence=0)
    return original, override


def _save_override(override: FollowUpOverride, row: CalendarEvent, *, start: datetime | None, cancelled: bool) -> None:
    override.sequence = max(row.sequence, override.sequence or 0) + 1  # SEQUENCE only ever rises
    override.start, override.cancelled = (utc_naive(start) if start else None), cancelled
    override.updated_at = utcnow()
    db.session.add(override)
    db.session.commit()


def move_meeting(team: Team, day: date, new_time: time, new_day: date | None = None,
                 now: datetime | None = None) -> int:
    """Move one meeting of the team's series (RECURRENCE-ID override); returns messages queued."""
    require_queue()  # the updates go through the job queue: with it down, nothing changes
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
    require_queue()  # the updates go through the job queue: with it down, nothing changes
    now = now or datetime.now(timezone.utc)
    cohort, row, spec = _series(team)
    original, override = _meeting_on(spec, row, day, now)
    if override.cancelled:
        raise FollowUpError("occurrence", _l("That meeting is already cancelled."))
    _save_override(override, row, start=None, cancelled=True)
    return send_updates(cohort)


def set_series_slot(team: Team, slot: str) -> int:
    """Move the whole series to a weekly slot every member marked free (an update of the same event)."""
    require_queue()
    cohort = db.session.get(Cohort, team.cohort_id)
    people = people_of(cohort, list(team.member_ids))
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
    # Read once for every team (not one query each): the cohort's people, event rows and moved meetings.
    organizer, out, everyone, events = organizer_of(cohort), [], people_of(cohort), rows_of(cohort)
    moved: dict[int, list[FollowUpOverride]] = {}
    for o in db.session.execute(db.select(FollowUpOverride).where(FollowUpOverride.cohort_id == cohort.id)
                                .order_by(FollowUpOverride.recurrence_id)).scalars():
        moved.setdefault(o.event_id, []).append(o)
    for team in teams.active_teams(cohort):
        members = set(team.member_ids)
        people = [(p, user) for p, user in everyone if p.id in members]
        shared = set.intersection(*(set(p.availability or []) for p, _ in people)) if people else set()
        spec = team_spec(cohort, team, organizer, everyone)
        row = events.get(stable_uid("team", team.id, "follow-up"))
        changes = {o.recurrence_id: o for o in (moved.get(row.id, []) if row else [])}
        tz = ZoneInfo(cohort.timezone)
        rows = [(m, changes.get(utc_naive(m))) for m in (meetings(spec) if spec else [])]
        out.append({"team": team, "names": " & ".join(u.name or "Participant" for _, u in people), "event": row,
                    "slot": slot_label(team.follow_up_slot) if team.follow_up_slot else None,
                    "shared": [slot_label(s) for s in SLOTS if s in shared],
                    "meetings": [(m, o, aware(o.start, tz) if o and o.start else None) for m, o in rows]})
    return out


