"""During the lab: which session is on now, attendance per half-day (or session) with one step of undo, the kit for this cohort, reminders.

Sessions and their times come from ``lab_curriculum`` laid onto the cohort's two dates in its time
zone, so the run-of-show, the invites and the printed kit always agree.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask_babel import gettext as _
from lab_curriculum import Block, ScheduledSession, half_day_blocks, render_html, schedule
from lab_curriculum.kit import render_pdf

from ..extensions import db
from ..models import Attendance, Cohort, LtiUser, OutboxMessage, Participant, Team, utcnow
from . import curriculum as cur
from . import outbox
from .intake import cohort_roster
from ..states import TeamStatus

log = logging.getLogger(__name__)
REMINDER_KIND = "intake_reminder"  # templates/email/intake_reminder.*
REMINDER_SUBJECT = "Reminder: your reciprocal mentoring profile"  # in English
REMINDER_GAP = timedelta(hours=24)


def lab_days(cohort: Cohort) -> list:
    """The two lab dates (day two defaults to the day after day one)."""
    return [cohort.day_one, cohort.day_two or cohort.day_one + timedelta(days=1)]


def scheduled_sessions(cohort: Cohort) -> list[ScheduledSession]:
    if not cohort.day_one:
        return []
    return schedule(cur.curriculum(), lab_days(cohort), cohort.timezone)


def current_session(cohort: Cohort, now: datetime | None = None) -> tuple[ScheduledSession | None, str]:
    """The session on now, else the next one, else the last; with a word on which it is.

    The state is "now", "next" (before the lab or in a gap), "over" (after the lab) or "unscheduled".
    """
    sessions = scheduled_sessions(cohort)
    if not sessions:
        return None, "unscheduled"
    now = now or datetime.now(timezone.utc)
    for item in sessions:
        if item.start <= now < item.end:
            return item, "now"
    upcoming = [item for item in sessions if item.start > now]
    if upcoming:
        return upcoming[0], "next"
    return sessions[-1], "over"


def find_session(cohort: Cohort, session_id: str) -> ScheduledSession | None:
    return next((s for s in scheduled_sessions(cohort) if s.session.id == session_id), None)


class AttendanceRefused(ValueError):
    """Attendance that cannot be taken (yet): the message says why."""


def half_days(cohort: Cohort) -> list[Block]:
    """The lab's working sessions in morning and afternoon blocks per day (as the invites show them)."""
    return half_day_blocks(scheduled_sessions(cohort))


def half_day_key(block: Block) -> str:
    return f"day{block.day}-{block.label}"


def find_half_day(cohort: Cohort, key: str) -> Block | None:
    return next((b for b in half_days(cohort) if half_day_key(b) == key), None)


def _rows(cohort: Cohort, session_ids: list[str]) -> list[Attendance]:
    return list(db.session.execute(db.select(Attendance).where(
        Attendance.cohort_id == cohort.id, Attendance.session_id.in_(session_ids))).scalars())


def attendance(cohort: Cohort, session_id: str) -> dict[int, bool]:
    """Participant id -> present, for everyone recorded for this session."""
    return {row.participant_id: row.present for row in _rows(cohort, [session_id])}


def half_day_marks(cohort: Cohort, block: Block) -> dict[int, str]:
    """Participant id -> "present", "absent" or "partly" (sessions differ or some are unrecorded)."""
    ids = [s.session.id for s in block.sessions]
    seen: dict[int, dict[str, bool]] = {}
    for row in _rows(cohort, ids):
        seen.setdefault(row.participant_id, {})[row.session_id] = row.present
    marks = {}
    for pid, values in seen.items():
        if len(values) == len(ids) and all(values.values()):
            marks[pid] = "present"
        elif len(values) == len(ids) and not any(values.values()):
            marks[pid] = "absent"
        else:
            marks[pid] = "partly"
    return marks


def record_attendance(cohort: Cohort, session_id: str, present_ids: set[int], now: datetime | None = None) -> int:
    """Record one session (per-session detail): who was there, everyone else enrolled absent."""
    shown = find_session(cohort, session_id)
    if shown is None or shown.session.is_break:
        raise KeyError(session_id)
    return take_attendance(cohort, [shown], present_ids, shown.session.title, now=now)


def take_attendance(cohort: Cohort, sessions: list[ScheduledSession], present_ids: set[int], label: str, *,
                    only_unmarked: bool = False, now: datetime | None = None) -> int:
    """Record who was there for these sessions; returns how many were marked present.

    Refused (AttendanceRefused) before the first of them has started. Without ``only_unmarked``
    everyone enrolled is recorded, absent unless in ``present_ids``; with it ("everyone is here")
    only people with no mark yet for these sessions are recorded, as present. The marks replaced are
    kept on the cohort so this one change can be undone.
    """
    now = now or datetime.now(timezone.utc)
    first = min(s.start for s in sessions)
    if first > now:
        raise AttendanceRefused(_("%(label)s has not started yet: attendance can be taken from %(when)s.",
                                  label=label, when=first.strftime("%d %B %Y, %H:%M")))
    ids = [s.session.id for s in sessions]
    people = {p.id for p in cohort_roster(cohort)}
    existing = {(row.participant_id, row.session_id): row for row in _rows(cohort, ids)}
    if only_unmarked:
        marked = {pid for pid, _sid in existing}
        wanted = {pid: True for pid in people - marked}
    else:
        wanted = {pid: pid in present_ids for pid in people}
    previous = []
    for pid, present in wanted.items():
        for sid in ids:
            row = existing.get((pid, sid))
            previous.append([pid, sid, None if row is None else row.present])
            if row is None:
                row = Attendance(cohort_id=cohort.id, participant_id=pid, session_id=sid)
                db.session.add(row)
            row.present, row.recorded_at = present, utcnow()
    cohort.attendance_undo = {"label": label, "at": utcnow().isoformat(), "marks": previous}
    db.session.commit()
    return sum(1 for present in wanted.values() if present)


def undo_attendance(cohort: Cohort) -> str | None:
    """Put back the marks the last attendance change replaced; returns what it was (None: nothing to undo)."""
    undo = cohort.attendance_undo
    if not undo:
        return None
    existing = {(row.participant_id, row.session_id): row
                for row in _rows(cohort, sorted({sid for _pid, sid, _was in undo["marks"]}))}
    for pid, sid, was in undo["marks"]:
        row = existing.get((pid, sid))
        if was is None and row is not None:
            db.session.delete(row)
        elif was is not None and row is not None:
            row.present = was
        elif was is not None:
            db.session.add(Attendance(cohort_id=cohort.id, participant_id=pid, session_id=sid, present=was))
    cohort.attendance_undo = None
    db.session.commit()
    return undo["label"]


def kit_cohort(cohort: Cohort) -> dict | None:
    """The cohort as the kit reads it (COHORT.json's shape): dates, time zone, teams by name."""
    if not cohort.day_one:
        return None
    user = db.session.get(LtiUser, cohort.facilitator_user_id) if cohort.facilitator_user_id else None
    facilitator = user.name if user is not None else ""
    teams = db.session.execute(db.select(Team).where(Team.cohort_id == cohort.id, Team.status == TeamStatus.ACTIVE)
                               .order_by(Team.id)).scalars().all()
    people = {p.id: p for p in db.session.execute(db.select(Participant).where(
        Participant.cohort_id == cohort.id)).scalars()}
    return {
        "name": cohort.name, "timezone": cohort.timezone,
        "dates": lab_days(cohort),
        "venue": cohort.venue or "", "video_link": cohort.video_link or "", "facilitator": facilitator,
        "teams": [{"name": f"Team {n}", "pod": team.pod,
                   "members": [people[m].user.name for m in team.member_ids if m in people]}
                  for n, team in enumerate(teams, start=1)],
    }


def kit_document(cohort: Cohort, name: str, fmt: str, stylesheet_href: str | None = None) -> bytes:
    """One kit document for this cohort, as HTML or PDF (KeyError for an unknown name).

    HTML links ``stylesheet_href`` when given (pages served under the app's Content-Security-Policy
    may not carry inline styles); the PDF always embeds its styles. The kit is English whoever downloads
    it (its scripts and handouts are not translated; titles and prompts in another language would mix in).
    """
    lab = cur.curriculum("en")
    if fmt == "html":
        return render_html(lab, kit_cohort(cohort), stylesheet_href=stylesheet_href)[name].encode("utf-8")
    return render_pdf(render_html(lab, kit_cohort(cohort))[name])


def recently_reminded(cohort: Cohort, kind: str) -> set[str]:
    """Addresses that got a reminder of this kind within the last day (nobody is reminded twice a day)."""
    since = utcnow() - REMINDER_GAP
    return set(db.session.execute(db.select(OutboxMessage.recipient).where(
        OutboxMessage.cohort_id == cohort.id, OutboxMessage.kind == kind,
        OutboxMessage.created_at >= since)).scalars())


def remind_intake(cohort: Cohort) -> tuple[int, int]:
    """Write a reminder to everyone enrolled who has not submitted their profile (not twice within a day).

    Returns (queued, skipped because reminded recently or without an email address). Not committed:
    ``outbox.deliver_later`` commits them once the queue answers, then queues the job that sends them.
    """
    recent = recently_reminded(cohort, REMINDER_KIND)
    queued = skipped = 0
    for person in cohort_roster(cohort):
        if person.intake_submitted_at is not None:
            continue
        address = person.user.contact_email
        if not address or address in recent:
            skipped += 1
            continue
        outbox.write_to(cohort, person.user, REMINDER_KIND, name=person.user.name or "",
                        day_one=cohort.day_one, day_two=cohort.day_two)
        queued += 1
    db.session.flush()
    log.info("intake reminders for cohort %s: %s queued, %s skipped", cohort.id, queued, skipped)
    return queued, skipped
