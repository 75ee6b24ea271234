"""Completion per learner: intake, attendance on both days, one reflection per half day; what is due by
now, who is behind, and a reminder to them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Attendance, Cohort, Participant, Reflection
from ..states import ParticipantStatus
from . import curriculum as cur
from . import lab_day, outbox


@dataclass
class Item:
    key: str
    label: str  # lazy: rendered in the reader's language (the page's viewer, a mail's recipient, the CSV's exporter)
    done: bool


@dataclass
class Progress:
    participant_id: int
    items: list[Item]

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def complete(self) -> bool:
        return self.done == self.total


def _reflection_label(reflection_id: str) -> str:
    """Read when shown, so the half day's title is in the reader's language too (a reminder mail is
    rendered in its recipient's, whoever sends it)."""
    return gettext("Reflection: %(title)s", title=cur.half_day(reflection_id).title)


def progress_for(participants: list[Participant]) -> dict[int, Progress]:
    """Progress of many participants in three queries (whatever their number)."""
    ids = [p.id for p in participants]
    if not ids:
        return {}
    present = {}
    for pid, session_id in db.session.execute(db.select(Attendance.participant_id, Attendance.session_id)
                                              .where(Attendance.participant_id.in_(ids), Attendance.present)):
        present.setdefault(pid, set()).add(session_id)
    submitted = {}
    for pid, session_id in db.session.execute(db.select(Reflection.participant_id, Reflection.session_id)
                                              .where(Reflection.participant_id.in_(ids),
                                                     Reflection.status == "submitted")):
        submitted.setdefault(pid, set()).add(session_id)
    # A day counts as attended only when every working session of it (both half-days) is recorded present.
    days = cur.working_session_ids_by_day()
    out = {}
    for p in participants:
        mine, refl = present.get(p.id, set()), submitted.get(p.id, set())
        items = [Item("intake", _l("Intake profile submitted"), p.intake_submitted_at is not None)]
        for day in sorted(days):
            items.append(Item(f"day{day}", _l("Attended day %(day)s", day=day), bool(days[day]) and days[day] <= mine))
        for r in cur.half_day_reflections():  # the last one asks for the first step of the action plan
            items.append(Item(f"reflection:{r.id}", LazyString(_reflection_label, r.id), r.id in refl))
        out[p.id] = Progress(p.id, items)
    return out


# --- the facilitator's view: what is due by now, who is behind, reminders -----------------------

STATUSES = ("behind", "on_track", "not_started", "done")  # the filters of the progress page, in order


@dataclass
class LearnerRow:
    participant: Participant
    progress: Progress
    status: str  # one of STATUSES
    missing: list[Item]  # due by now and not done

    @property
    def needs_reminder(self) -> bool:
        """Something due by now is not done (behind, or not started at all)."""
        return bool(self.missing)


def due_keys(cohort: Cohort, now: datetime | None = None) -> set[str]:
    """The checklist items expected by now: the intake always; a day's attendance and its half-day
    reflections once that day's sessions are over."""
    now = now or datetime.now(timezone.utc)
    due = {"intake"}
    days_over = {day for day, items in _by_day(lab_day.scheduled_sessions(cohort)).items()
                 if max(s.end for s in items) <= now}
    due |= {f"day{day}" for day in days_over}
    due |= {f"reflection:{r.id}" for r in cur.half_day_reflections() if int(r.day) in days_over}
    return due


def _by_day(sessions) -> dict[int, list]:
    days: dict[int, list] = {}
    for s in sessions:
        days.setdefault(int(s.session.day), []).append(s)
    return days


def learner_rows(cohort: Cohort, now: datetime | None = None) -> list[LearnerRow]:
    """Everyone taking part (removed and withdrawn people left out) with their progress and status."""
    people = list(db.session.execute(db.select(Participant).where(
        Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.ENROLLED)
        .options(selectinload(Participant.user))  # names on the page: one query, not one per learner
        .order_by(Participant.id)).scalars())
    progress = progress_for(people)
    due = due_keys(cohort, now)
    rows = []
    for p in people:
        mine = progress[p.id]
        missing = [item for item in mine.items if item.key in due and not item.done]
        status = ("done" if mine.complete else "not_started" if not mine.done else "behind" if missing
                  else "on_track")
        rows.append(LearnerRow(p, mine, status, missing))
    return rows


def counts(rows: list[LearnerRow]) -> dict[str, int]:
    return {status: sum(1 for r in rows if r.status == status) for status in STATUSES}


REMINDER_KIND = "progress_reminder"  # templates/email/progress_reminder.*


def reminder_mail(row: LearnerRow, cohort: Cohort) -> dict:
    """What the reminder to one learner says (the confirmation page shows it before anything is sent)."""
    return {"name": row.participant.user.name or "", "missing": [item.label for item in row.missing],
            "day_one": cohort.day_one, "day_two": cohort.day_two}


def remind_behind(cohort: Cohort) -> tuple[int, int]:
    """Write a reminder to everyone with something due and not done, naming it (not twice within a day).

    Returns (queued, skipped because reminded recently or without an email address).
    """
    recent = lab_day.recently_reminded(cohort, REMINDER_KIND)
    queued = skipped = 0
    for row in learner_rows(cohort):
        if not row.needs_reminder:
            continue
        address = row.participant.user.contact_email
        if not address or address in recent:
            skipped += 1
            continue
        outbox.write_to(cohort, row.participant.user, REMINDER_KIND, **reminder_mail(row, cohort))
        queued += 1
    db.session.commit()
    return queued, skipped


def csv_table(rows: list[LearnerRow], received: dict[int, dict], status_words: dict) -> tuple[list, list[list]]:
    """The progress table for a spreadsheet: one line per learner, every checklist item, and what the LMS
    gradebook got (``received``: participant id -> ``grades.received()``)."""
    items = [item.label for item in rows[0].progress.items] if rows else []
    columns = [_l("Learner"), _l("Email"), _l("Status"), _l("Done"), _l("Out of"), *items,
               _l("Gradebook: last score received"), _l("Gradebook: received at"), _l("Gradebook: last result")]
    lines = []
    for row in rows:
        got = received[row.participant.id]
        user = row.participant.user
        lines.append([user.name or user.sub, user.contact_email or "", str(status_words[row.status]),
                      row.progress.done, row.progress.total, *(item.done for item in row.progress.items),
                      got["score"], got["at"].isoformat(timespec="minutes") if got["at"] else "", got["result"]])
    return columns, lines
