"""During the lab: which session is on now, attendance per session, the kit for this cohort, reminders.

Sessions and their times come from ``lab_curriculum`` laid onto the cohort's two dates in its time
zone, so the run-of-show, the invites and the printed kit always agree.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from lab_curriculum import ScheduledSession, render_html, schedule
from lab_curriculum.kit import render_pdf

from ..extensions import db
from ..models import Attendance, Cohort, LtiUser, OutboxMessage, Participant, Team, utcnow
from . import curriculum as cur
from . import outbox
from .intake import cohort_roster

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


def attendance(cohort: Cohort, session_id: str) -> dict[int, bool]:
    """Participant id -> present, for everyone recorded for this session."""
    rows = db.session.execute(db.select(Attendance).where(Attendance.cohort_id == cohort.id,
                                                          Attendance.session_id == session_id)).scalars()
    return {row.participant_id: row.present for row in rows}


def record_attendance(cohort: Cohort, session_id: str, present_ids: set[int]) -> int:
    """Save who was there (everyone else enrolled is recorded absent); returns how many are present."""
    people = {p.id for p in cohort_roster(cohort)}
    present_ids = present_ids & people
    existing = {row.participant_id: row for row in db.session.execute(db.select(Attendance).where(
        Attendance.cohort_id == cohort.id, Attendance.session_id == session_id)).scalars()}
    for pid in people:
        row = existing.get(pid)
        if row is None:
            row = Attendance(cohort_id=cohort.id, participant_id=pid, session_id=session_id)
            db.session.add(row)
        row.present, row.recorded_at = pid in present_ids, utcnow()
    db.session.commit()
    return len(present_ids)


def kit_cohort(cohort: Cohort) -> dict | None:
    """The cohort as the kit reads it (COHORT.json's shape): dates, time zone, teams by name."""
    if not cohort.day_one:
        return None
    user = db.session.get(LtiUser, cohort.facilitator_user_id) if cohort.facilitator_user_id else None
    facilitator = user.name if user is not None else ""
    teams = db.session.execute(db.select(Team).where(Team.cohort_id == cohort.id, Team.status == "active")
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
    may not carry inline styles); the PDF always embeds its styles.
    """
    if fmt == "html":
        return render_html(cur.curriculum(), kit_cohort(cohort), stylesheet_href=stylesheet_href)[name].encode("utf-8")
    return render_pdf(render_html(cur.curriculum(), kit_cohort(cohort))[name])


def remind_intake(cohort: Cohort) -> tuple[int, int]:
    """Write a reminder to everyone enrolled who has not submitted their profile (not twice within a day).

    Returns (queued, skipped because reminded recently or without an email address).
    """
    since = utcnow() - REMINDER_GAP
    recent = set(db.session.execute(db.select(OutboxMessage.recipient).where(
        OutboxMessage.cohort_id == cohort.id, OutboxMessage.kind == REMINDER_KIND,
        OutboxMessage.created_at >= since)).scalars())
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
    db.session.commit()
    log.info("intake reminders for cohort %s: %s queued, %s skipped", cohort.id, queued, skipped)
    return queued, skipped
