"""Completion per learner: intake, attendance on both days, one reflection per half day."""
from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import Attendance, Participant, Reflection
from . import curriculum as cur


@dataclass
class Item:
    key: str
    label: str
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
        items = [Item("intake", "Intake profile submitted", p.intake_submitted_at is not None)]
        for day in sorted(days):
            items.append(Item(f"day{day}", f"Attended day {day}", bool(days[day]) and days[day] <= mine))
        for r in cur.half_day_reflections():  # the last one asks for the first step of the action plan
            items.append(Item(f"reflection:{r.id}", f"Reflection: {r.title}", r.id in refl))
        out[p.id] = Progress(p.id, items)
    return out
