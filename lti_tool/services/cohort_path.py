"""A cohort as a path of five steps — Roster → Matching → Published → Lab days → Follow-up — each with
its status in a few words, and the step the cohort is at (the cohort list shows it).

Read only: every count comes from the rows as they are (nothing is recorded by looking).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from ..extensions import db
from ..models import Attendance, Cohort, MatchRun, Participant, Team
from ..states import ParticipantStatus, RunStatus, TeamStatus
from . import follow_ups, lab_day, matchmaking

STEPS = ("roster", "matching", "published", "lab", "follow_up")


@dataclass(frozen=True)
class Step:
    key: str  # one of STEPS; the cohort page's section id is ``step-<key>``
    number: int
    title: str
    status: str  # what a facilitator needs at a glance ("12 of 14 intakes done")
    state: str  # "done", "current" or "upcoming"


@dataclass(frozen=True)
class Headcount:
    enrolled: int  # taking part (removed and withdrawn people are not counted)
    intakes_done: int  # of those enrolled, profiles submitted
    withdrawn: int


def headcount(cohort: Cohort) -> Headcount:
    """Who takes part: people removed by the facilitator or who withdrew are counted apart."""
    rows = db.session.execute(db.select(Participant.status, Participant.intake_submitted_at.is_not(None),
                                        db.func.count(Participant.id))
                              .where(Participant.cohort_id == cohort.id)
                              .group_by(Participant.status, Participant.intake_submitted_at.is_not(None))).all()
    enrolled = sum(n for status, _done, n in rows if status == ParticipantStatus.ENROLLED)
    done = sum(n for status, submitted, n in rows if status == ParticipantStatus.ENROLLED and submitted)
    return Headcount(enrolled, done, sum(n for status, _done, n in rows if status == ParticipantStatus.WITHDRAWN))


def current_key(cohort: Cohort, today: date | None = None) -> str:
    """The step the cohort is at: the first whose work is not finished."""
    today = today or date.today()
    if not cohort.published_run_id:
        has_run = db.session.execute(db.select(MatchRun.id).where(MatchRun.cohort_id == cohort.id).limit(1)).first()
        return "matching" if has_run else "roster"
    if not cohort.day_one or today < cohort.day_one:
        return "published"
    last_day = lab_day.lab_days(cohort)[1]
    return "lab" if today <= last_day else "follow_up"


def _roster_status(count: Headcount) -> str:
    if not count.enrolled:
        return _("Nobody enrolled yet")
    return _("%(done)s of %(n)s intakes done", done=count.intakes_done, n=count.enrolled)


def _matching_status(cohort: Cohort) -> str:
    run = db.session.execute(db.select(MatchRun).where(MatchRun.cohort_id == cohort.id)
                             .order_by(MatchRun.id.desc()).limit(1)).scalars().first()
    if run is None:
        return _("No proposal yet")
    n = matchmaking.proposal_number(run)
    if run.published_at:
        return _("Proposal %(n)s published", n=n)
    if run.status == RunStatus.DONE:
        return _("Proposal %(n)s ready", n=n)
    if run.status == RunStatus.FAILED:
        return _("Proposal %(n)s failed", n=n)
    return _("Proposal %(n)s being worked out", n=n)


def _published_status(cohort: Cohort) -> str:
    if not cohort.published_run_id:
        return _("Not yet")
    run = db.session.get(MatchRun, cohort.published_run_id)
    active = db.session.execute(db.select(db.func.count(Team.id)).where(
        Team.cohort_id == cohort.id, Team.status == TeamStatus.ACTIVE)).scalar_one()
    return _("Published %(when)s · %(n)s teams", when=format_date(run.published_at, "d MMM"), n=active)


def _lab_status(cohort: Cohort, today: date) -> str:
    if not cohort.day_one:
        return _("Dates not set")
    if today < cohort.day_one:
        return _("Day 1 on %(when)s", when=format_date(cohort.day_one, "d MMM"))
    recorded = set(db.session.execute(db.select(Attendance.session_id).where(
        Attendance.cohort_id == cohort.id).distinct()).scalars())
    taken = {}
    for block in lab_day.half_days(cohort):
        taken.setdefault(block.day, []).append(any(s.session.id in recorded for s in block.sessions))
    full = [day for day, halves in sorted(taken.items()) if all(halves)]
    some = [day for day, halves in sorted(taken.items()) if any(halves)]
    if len(full) == len(taken) and taken:
        return _("Attendance taken for both days")
    if full:
        return _("Day %(day)s attendance taken", day=full[-1])
    if some:
        return _("Day %(day)s attendance partly taken", day=some[-1])
    return _("Attendance not taken yet")


def _follow_up_status(cohort: Cohort) -> str:
    if not cohort.published_run_id:
        return _("After the teams are published")
    # followups: the lapsed pairs and check-in counts can join this line.
    overview = follow_ups.follow_up_overview(cohort)
    planned = sum(1 for row in overview if row["meetings"])
    return _("%(n)s of %(m)s teams have follow-up meetings planned", n=planned, m=len(overview))


def steps(cohort: Cohort, today: date | None = None, count: Headcount | None = None) -> list[Step]:
    """The five steps with their status; those before the current one are done."""
    today = today or date.today()
    count = count or headcount(cohort)
    current = STEPS.index(current_key(cohort, today))
    titles = {"roster": _("Roster"), "matching": _("Matching"), "published": _("Published"),
              "lab": _("Lab days"), "follow_up": _("Follow-up")}
    statuses = {"roster": _roster_status(count), "matching": _matching_status(cohort),
                "published": _published_status(cohort), "lab": _lab_status(cohort, today),
                "follow_up": _follow_up_status(cohort)}
    return [Step(key, i + 1, titles[key], statuses[key],
                 "done" if i < current else "current" if i == current else "upcoming")
            for i, key in enumerate(STEPS)]


def current_step(cohort: Cohort, today: date | None = None) -> Step:
    return next(step for step in steps(cohort, today) if step.state == "current")
