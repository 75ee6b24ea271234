"""L&D insights across the launch's deployment: aggregates only, small groups never shown.

A fixed number of queries whatever the number of cohorts (aggregation happens in SQL or over one
row per participant). Individual answers are never read here: only the numeric gain ratings, and
only as sums and counts. Anonymous ratings kept from deleted accounts count towards cohort and
overall figures (they have no department or gender, so they are not in those breakdowns).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import case, func

from ..extensions import db
from ..models import AnonymousRating, Attendance, Cohort, Course, Participant, Reflection, Team, TeamMember
from . import curriculum as cur

SUPPRESSED = None  # a cell whose group is too small


@dataclass
class Filters:
    cohort_ids: list[int] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    department: str | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""


def min_group() -> int:
    return int(current_app.config.get("MIN_GROUP_SIZE", 5))


def cohorts_for(deployment_id: int) -> list[Cohort]:
    return list(db.session.execute(db.select(Cohort).join(Course, Course.id == Cohort.course_id)
                                   .where(Course.deployment_id == deployment_id).order_by(Cohort.id)).scalars())


def departments_for(cohort_ids: list[int]) -> list[str]:
    """Departments with at least MIN_GROUP_SIZE people (smaller ones are not offered as a filter)."""
    if not cohort_ids:
        return []
    rows = db.session.execute(db.select(Participant.department, func.count()).where(
        Participant.cohort_id.in_(cohort_ids), Participant.department.is_not(None))
        .group_by(Participant.department)).all()
    return sorted(d for d, n in rows if d and n >= min_group())


def _cohort_day(c: Cohort) -> date:
    return c.day_one or c.created_at.date()


def _month(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


@dataclass
class Person:
    cohort_id: int
    department: str | None
    gender: str | None
    intake: bool
    both_days: bool = False
    reflections: int = 0
    gs_sum: int = 0
    gs_n: int = 0
    gp_sum: int = 0
    gp_n: int = 0


def compute(deployment_id: int, filters: Filters) -> dict:
    mg = min_group()
    all_cohorts = cohorts_for(deployment_id)  # query 1
    cohorts = [c for c in all_cohorts
               if (not filters.cohort_ids or c.id in filters.cohort_ids)
               and (not filters.date_from or _cohort_day(c) >= filters.date_from)
               and (not filters.date_to or _cohort_day(c) <= filters.date_to)]
    ids = [c.id for c in cohorts] or [-1]
    names = {c.id: c.name for c in cohorts}
    people_q = db.select(Participant.id, Participant.cohort_id, Participant.department, Participant.gender,
                         Participant.intake_submitted_at.is_not(None)).where(
        Participant.cohort_id.in_(ids), Participant.status != "withdrawn")
    if filters.department:
        people_q = people_q.where(Participant.department == filters.department)
    people = {pid: Person(cid, dept, gender, bool(intake))
              for pid, cid, dept, gender, intake in db.session.execute(people_q)}  # query 2
    days = cur.session_ids_by_day()
    d1, d2 = sorted(days.get(1, set())), sorted(days.get(2, set()))
    att = db.select(Attendance.participant_id,
                    func.max(case((Attendance.session_id.in_(d1), 1), else_=0)),
                    func.max(case((Attendance.session_id.in_(d2), 1), else_=0))).where(
        Attendance.cohort_id.in_(ids), Attendance.present).group_by(Attendance.participant_id)
    for pid, a1, a2 in db.session.execute(att):  # query 3
        if pid in people:
            people[pid].both_days = bool(a1 and a2)
    gs = Reflection.answers["gain_self"].as_integer()
    gp = Reflection.answers["gain_partner"].as_integer()
    submitted = (Reflection.cohort_id.in_(ids), Reflection.status == "submitted")
    refl = db.select(Reflection.participant_id, func.count(), func.coalesce(func.sum(gs), 0), func.count(gs),
                     func.coalesce(func.sum(gp), 0), func.count(gp)).where(*submitted).group_by(
        Reflection.participant_id)
    for pid, n, s1, n1, s2, n2 in db.session.execute(refl):  # query 4
        if pid in people:
            p = people[pid]
            p.reflections, p.gs_sum, p.gs_n, p.gp_sum, p.gp_n = n, int(s1), n1, int(s2), n2
    anon = {} if filters.department else {
        cid: (int(s1 or 0), n1, int(s2 or 0), n2) for cid, s1, n1, s2, n2 in db.session.execute(
            db.select(AnonymousRating.cohort_id, func.sum(AnonymousRating.gain_self),
                      func.count(AnonymousRating.gain_self), func.sum(AnonymousRating.gain_partner),
                      func.count(AnonymousRating.gain_partner)).where(AnonymousRating.cohort_id.in_(ids))
            .group_by(AnonymousRating.cohort_id))}  # query 5
    by_team: dict[int, tuple] = {}
    for team_id, cohort_id, score, gains, member in db.session.execute(  # query 6: one row per team member
            db.select(Team.id, Team.cohort_id, Team.score, Team.gains, TeamMember.participant_id)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(Team.cohort_id.in_(ids), Team.status == "active").order_by(Team.id, TeamMember.position)):
        by_team.setdefault(team_id, (cohort_id, score, gains, []))[3].append(member)
    teams = list(by_team.values())
    month = _month(Reflection.submitted_at)
    trend_q = db.select(month, func.count(), func.count(func.distinct(Reflection.participant_id)),
                        func.avg(gs), func.avg(gp)).where(*submitted)
    if filters.department:
        trend_q = trend_q.join(Participant, Participant.id == Reflection.participant_id).where(
            Participant.department == filters.department)
    trend = db.session.execute(trend_q.group_by(month).order_by(month)).all()  # query 7

    n_sessions = len(cur.reflective_sessions())

    def metrics(group: list[Person], extra=(0, 0, 0, 0)):
        n = len(group)
        s1 = sum(p.gs_sum for p in group) + extra[0]
        n1 = sum(p.gs_n for p in group) + extra[1]
        s2 = sum(p.gp_sum for p in group) + extra[2]
        n2 = sum(p.gp_n for p in group) + extra[3]
        return [n, _pct(sum(p.intake for p in group), n), _pct(sum(p.both_days for p in group), n),
                _pct(sum(p.reflections for p in group), n * n_sessions),
                round(s1 / n1, 2) if n1 else None, round(s2 / n2, 2) if n2 else None]

    columns = ["Group", "People", "Intake completed (%)", "Attended both days (%)",
               "Reflections completed (%)", "Own gain reported (mean 1-5)", "Gain seen in partner (mean 1-5)"]

    def breakdown(key, title, label_of, with_anon=False):
        groups: dict[str, list[Person]] = defaultdict(list)
        for p in people.values():
            groups[label_of(p)].append(p)
        rows, other, other_anon = [], [], [0, 0, 0, 0]
        for label in sorted(groups, key=lambda x: (x is None, str(x))):
            members = groups[label]
            extra = anon.get(label_cohort.get(label), (0, 0, 0, 0)) if with_anon else (0, 0, 0, 0)
            if len(members) >= mg and label is not None:
                rows.append([names.get(label, label) if with_anon else label] + metrics(members, extra))
            else:
                other.extend(members)
                other_anon = [a + b for a, b in zip(other_anon, extra)]
        note = ""
        if other:
            if len(other) >= mg:
                rows.append(["Other (smaller groups and not stated)"] + metrics(other, other_anon))
            else:
                note = f"Groups with fewer than {mg} people are not shown."
        return Table(key, title, columns, rows, note)

    label_cohort = {c.id: c.id for c in cohorts}
    everyone = list(people.values())
    overview_values = metrics(everyone, tuple(map(sum, zip(*anon.values()))) if anon else (0, 0, 0, 0))
    enough = len(everyone) >= mg
    tables = {}
    tables["overview"] = Table("overview", "Overview", ["Measure", "Value"], [
        [label, value if enough else SUPPRESSED] for label, value in zip(columns[1:], overview_values)],
        "" if enough else f"Fewer than {mg} people match these filters: figures are not shown.")
    tables["by_cohort"] = breakdown("by_cohort", "By cohort", lambda p: p.cohort_id, with_anon=True)
    tables["by_department"] = breakdown("by_department", "By department", lambda p: p.department)
    tables["by_gender"] = breakdown("by_gender", "By gender", lambda p: p.gender if p.gender != "undisclosed" else None)

    # match quality: teams with at least one member in the filtered people
    team_rows = [(score, gains or {}, members) for _, score, gains, members in teams
                 if set(members or []) & set(people)]
    bins = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]
    dist = []
    for lo, hi in bins:
        inside = [t for t in team_rows if lo <= (t[0] or 0) < hi]
        size = sum(len(t[2]) for t in inside)
        label = f"{lo:.1f}–{min(hi, 1.0):.1f}"
        dist.append([label, len(inside) if size >= mg else SUPPRESSED])
    tables["match_scores"] = Table("match_scores", "Match score distribution (teams per score band)",
                                   ["Score band", "Teams"], dist,
                                   f"Bands holding fewer than {mg} people are not shown.")
    both_predicted = sum(1 for _, g, m in team_rows if m and all((g.get(str(x)) or 0) > 0 for x in m))
    both_reported = 0
    for _, _, m in team_rows:
        means = [(people[x].gs_sum / people[x].gs_n) if x in people and people[x].gs_n else None for x in m]
        if means and all(v is not None and v >= 3 for v in means):
            both_reported += 1
    team_people = sum(len(m) for _, _, m in team_rows)
    show_teams = team_people >= mg
    tables["match_quality"] = Table("match_quality", "Match quality", ["Measure", "Value"], [
        ["Teams", len(team_rows) if show_teams else SUPPRESSED],
        ["Teams where the matcher expected both sides to gain (%)",
         _pct(both_predicted, len(team_rows)) if show_teams else SUPPRESSED],
        ["Teams where both members report gaining (mean own gain 3 or more) (%)",
         _pct(both_reported, len(team_rows)) if show_teams else SUPPRESSED]])
    tables["trend"] = Table("trend", "Reflections over time (by month submitted)",
                            ["Month", "Reflections submitted", "Own gain (mean)", "Gain seen in partner (mean)"],
                            [[m, n, _r(a), _r(b)] if people_n >= mg else [m, SUPPRESSED, SUPPRESSED, SUPPRESSED]
                             for m, n, people_n, a, b in trend if m],
                            f"Months with reflections from fewer than {mg} people are not shown.")
    return {"tables": tables, "cohorts": all_cohorts, "selected": cohorts, "people": len(everyone),
            "min_group": mg, "departments": departments_for([c.id for c in all_cohorts])}


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def _r(value):
    return round(float(value), 2) if value is not None else None
