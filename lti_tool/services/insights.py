"""L&D insights across the launch's deployment: aggregates only, and no figure that reveals a person.

Six queries whatever the number of cohorts (everything of the deployment is read once, reflections as
the tally kept per person and month, services/insights_store.py; every table and filter is then built in
Python from those rows), and none but one version number while the deployment's data stands. Individual
answers are never read here: only the numeric gain ratings, as sums and counts.

The rules (docs/insights.md explains them for readers):

1. Respondents. A figure is shown only when at least MIN_GROUP_SIZE distinct people stand behind it.
   People are LMS users, so a person with three reflections, or in two cohorts, is one respondent.
   Head count, intake, attendance and reflections completed count everyone in the group; a mean
   rating counts the people who gave that rating. Anonymous ratings kept from deleted accounts cannot
   be told apart by person: all of a figure's anonymous rows together count as one respondent.
2. Complementary suppression. Every breakdown splits its total exactly (anonymous ratings sit in the
   "Other" group of department and gender). When a column hides a group, it also hides the smallest
   shown groups until at least two groups with at least MIN_GROUP_SIZE people between them are hidden,
   so the total minus the shown groups gives nothing smaller.
3. Filters. The unfiltered page is protected by 1 and 2; a filtered figure is shown only when it adds
   nothing that the unfiltered page and every other filter together could narrow down to fewer people:
   - overview and "by cohort" for a selection of cohorts (cohort list or date range): only when the
     selection takes each hidden group of that column of the unfiltered "by cohort" table, and each
     multi-cohort row, whole or not at all; the figure is then a sum of what the unfiltered page
     already determines;
   - a department's overview is its row of the unfiltered "by department" table, hidden where that is;
   - any other breakdown under a filter: a column only when every cohort's (or department's) share of
     every group holds no one or at least MIN_GROUP_SIZE respondents, so that any filtered figure is a
     sum of such shares and subtracting two of them leaves whole shares;
   - with a department filter, only the overview and "by cohort" (department and cohort shares); the
     other breakdowns would publish a third cross-table (department by gender, month or team) that,
     set against the others, can isolate a person.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func

from ..extensions import db
from ..models import Attendance, Cohort, Course, InsightTally, Participant, Team, TeamMember
from . import curriculum as cur, insights_store
from ..states import ParticipantStatus, TeamStatus

MARKER = _l("not shown")  # the one text for a held-back figure, in pages, charts and CSV
ANON = "anonymous ratings"  # all anonymous rows of a figure: one respondent


class _Other:
    """The "Other" group of a breakdown (a sentinel, so that no department or gender name can be it)."""

    __slots__ = ()

    def __repr__(self):
        return "OTHER"


OTHER = _Other()


class _Suppressed:
    """A figure held back: it would come from fewer than MIN_GROUP_SIZE people, or let one be derived."""

    __slots__ = ()

    def __repr__(self):
        return "SUPPRESSED"

    def __str__(self):
        return str(MARKER)


SUPPRESSED = _Suppressed()

# The answers insights read, whatever visibility the learner chose for them: the reflection form says so
# next to these prompts (``in_anonymous_totals``), and nothing else is ever aggregated.
AGGREGATED_PROMPTS = (cur.GAIN_SELF, cur.GAIN_PARTNER)


def in_anonymous_totals(prompt_id: str) -> bool:
    return prompt_id in AGGREGATED_PROMPTS


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


@dataclass
class Cell:
    value: object
    who: set  # distinct respondents: user ids, and ANON for all anonymous rows together
    data: bool  # anything behind it; an empty cell (0 people, no rating) reveals nothing


def min_group() -> int:
    return int(current_app.config.get("MIN_GROUP_SIZE", 5))


@dataclass(frozen=True)
class CohortRow:
    """What insights use of a cohort: plain values, so a page kept between requests holds no database row."""

    id: int
    name: str
    day_one: date | None
    created_at: datetime


def cohorts_for(deployment_id: int) -> list[CohortRow]:
    return [CohortRow(*row) for row in db.session.execute(
        db.select(Cohort.id, Cohort.name, Cohort.day_one, Cohort.created_at).join(Course, Course.id == Cohort.course_id)
        .where(Course.deployment_id == deployment_id).order_by(Cohort.id))]


def _cohort_day(c: CohortRow) -> date:
    return c.day_one or c.created_at.date()


@dataclass(slots=True)
class Person:
    pid: int
    uid: int
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
    months: dict = field(default_factory=dict)  # month -> [reflections, gs_sum, gs_n, gp_sum, gp_n]


# --- groups: what a table row (or a cohort's share of it) holds, and its cells ------------------------------

class PeopleGroup:
    """People and anonymous ratings: head count, intake, attendance, reflections completed, mean gains."""

    def __init__(self):
        self.people: list[Person] = []
        self.anon = [0, 0, 0, 0]  # gs_sum, gs_n, gp_sum, gp_n

    def add_anon(self, values):
        self.anon = [a + b for a, b in zip(self.anon, values)]

    def cells(self, n_sessions: int) -> list[Cell]:
        ps, n = self.people, len(self.people)
        users = {p.uid for p in ps}
        s1, n1 = sum(p.gs_sum for p in ps) + self.anon[0], sum(p.gs_n for p in ps) + self.anon[1]
        s2, n2 = sum(p.gp_sum for p in ps) + self.anon[2], sum(p.gp_n for p in ps) + self.anon[3]
        return [Cell(n, users, n > 0), Cell(_pct(sum(p.intake for p in ps), n), users, n > 0),
                Cell(_pct(sum(p.both_days for p in ps), n), users, n > 0),
                Cell(_pct(sum(p.reflections for p in ps), n * n_sessions), users, n > 0),
                Cell(_mean(s1, n1), {p.uid for p in ps if p.gs_n} | ({ANON} if self.anon[1] else set()), n1 > 0),
                Cell(_mean(s2, n2), {p.uid for p in ps if p.gp_n} | ({ANON} if self.anon[3] else set()), n2 > 0)]


class MonthGroup:
    """Reflections submitted in one month: their number and mean gains."""

    def __init__(self):
        self.entries: list[tuple[Person, list]] = []
        self.anon = [0, 0, 0, 0]

    def add_anon(self, values):
        self.anon = [a + b for a, b in zip(self.anon, values)]

    def cells(self, _n_sessions=0) -> list[Cell]:
        e = self.entries
        n = sum(s[0] for _, s in e)
        s1, n1 = sum(s[1] for _, s in e) + self.anon[0], sum(s[2] for _, s in e) + self.anon[1]
        s2, n2 = sum(s[3] for _, s in e) + self.anon[2], sum(s[4] for _, s in e) + self.anon[3]
        return [Cell(n, {p.uid for p, s in e if s[0]}, n > 0),
                Cell(_mean(s1, n1), {p.uid for p, s in e if s[2]} | ({ANON} if self.anon[1] else set()), n1 > 0),
                Cell(_mean(s2, n2), {p.uid for p, s in e if s[4]} | ({ANON} if self.anon[3] else set()), n2 > 0)]


class TeamGroup:
    """Active teams: their number, and (match quality) the shares predicted and reported to gain both ways."""

    def __init__(self, data: "Deployment"):
        self.data = data
        self.teams: list[tuple] = []  # (score, gains, member ids)

    def _members(self):
        return {self.data.user_of.get(m, ("participant", m)) for _, _, members in self.teams for m in members}

    def cells(self, _n_sessions=0) -> list[Cell]:
        n = len(self.teams)
        return [Cell(n, self._members(), n > 0)]

    def quality_cells(self) -> list[Cell]:
        people, n = self.data.by_pid, len(self.teams)
        predicted = sum(1 for _, g, m in self.teams if m and all((g.get(str(x)) or 0) > 0 for x in m))
        reported = 0
        for _, _, m in self.teams:
            means = [people[x].gs_sum / people[x].gs_n if x in people and people[x].gs_n else None for x in m]
            if means and all(v is not None and v >= 3 for v in means):
                reported += 1
        members = self._members()
        raters = {people[x].uid for _, _, m in self.teams for x in m if x in people and people[x].gs_n}
        return [Cell(n, members, n > 0), Cell(_pct(predicted, n), members, n > 0),
                Cell(_pct(reported, n), raters, bool(raters))]


BANDS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]


def _band(score) -> int:
    s = score or 0
    return next((i for i, (lo, hi) in enumerate(BANDS) if lo <= s < hi), len(BANDS) - 1)


# --- reading the deployment: six queries ----------------------------------------------------------------------

class Deployment:
    """Everything insights need about one deployment, read once."""

    def __init__(self, deployment_id: int, version: int | None = None):
        self.mg = min_group()
        self.version = version  # deployment.insights_version when read (None: read inside uncommitted changes)
        self.cohorts = cohorts_for(deployment_id)  # query 1
        ids = [c.id for c in self.cohorts] or [-1]
        self.user_of: dict[int, int] = {}
        self.people: list[Person] = []
        for pid, cid, uid, dept, gender, intake, status in db.session.execute(db.select(
                Participant.id, Participant.cohort_id, Participant.user_id, Participant.department,
                Participant.gender, Participant.intake_submitted_at.is_not(None), Participant.status)
                .where(Participant.cohort_id.in_(ids))):  # query 2
            self.user_of[pid] = uid
            if status != ParticipantStatus.WITHDRAWN:
                self.people.append(Person(pid, uid, cid, dept, gender if gender != "undisclosed" else None,
                                          bool(intake)))
        self.by_pid = {p.pid: p for p in self.people}
        # A day is attended when every working session of it is recorded present (as in progress).
        days = cur.working_session_ids_by_day()
        d1, d2 = sorted(days.get(1, set())), sorted(days.get(2, set()))
        for pid, a1, a2 in db.session.execute(db.select(
                Attendance.participant_id, func.sum(case((Attendance.session_id.in_(d1), 1), else_=0)),
                func.sum(case((Attendance.session_id.in_(d2), 1), else_=0))).where(
                Attendance.cohort_id.in_(ids), Attendance.present).group_by(Attendance.participant_id)):  # query 3
            if pid in self.by_pid:
                self.by_pid[pid].both_days = bool(d1 and d2) and a1 == len(d1) and a2 == len(d2)
        # Reflections and anonymous ratings come summed per person (or cohort) and month from the tally kept
        # at every commit (services/insights_store.py), not from every reflection.
        self.anon: dict[tuple, list[int]] = {}
        for cid, pid, m, n, s1, n1, s2, n2 in db.session.execute(db.select(
                InsightTally.cohort_id, InsightTally.participant_id, InsightTally.month, InsightTally.reflections,
                InsightTally.gs_sum, InsightTally.gs_n, InsightTally.gp_sum, InsightTally.gp_n)
                .where(InsightTally.cohort_id.in_(ids))):  # query 4
            if pid is None:
                self.anon[(cid, m)] = [a + b for a, b in zip(self.anon.get((cid, m), [0, 0, 0, 0]), (s1, n1, s2, n2))]
                continue
            p = self.by_pid.get(pid)
            if p is not None:
                p.months[m] = [a + b for a, b in zip(p.months.get(m, [0, 0, 0, 0, 0]), (n, s1, n1, s2, n2))]
                p.reflections += n
                p.gs_sum, p.gs_n, p.gp_sum, p.gp_n = p.gs_sum + s1, p.gs_n + n1, p.gp_sum + s2, p.gp_n + n2
        by_team: dict[int, tuple] = {}
        for team_id, cid, score, gains, member in db.session.execute(  # query 6: one row per team member
                db.select(Team.id, Team.cohort_id, Team.score, Team.gains, TeamMember.participant_id)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .where(Team.cohort_id.in_(ids), Team.status == TeamStatus.ACTIVE).order_by(Team.id, TeamMember.position)):
            by_team.setdefault(team_id, (cid, score, gains or {}, []))[3].append(member)
        self.teams = list(by_team.values())
        self.n_sessions = len(cur.half_day_reflections())  # reflections each person is asked for
        # Groups of the unfiltered breakdowns: too small a cohort, department or gender joins "Other".
        self.cohort_row = self._sizes(lambda p: p.cohort_id)
        self.dept_row = self._sizes(lambda p: p.department)
        self.gender_row = self._sizes(lambda p: p.gender)
        self._atoms: dict = {}
        self._bands: list | None = None

    def _sizes(self, key) -> dict:
        users = defaultdict(set)
        for p in self.people:
            users[key(p)].add(p.uid)
        return {k: k if k is not None and len(u) >= self.mg else OTHER for k, u in users.items()}

    def merged_bands(self) -> list[tuple[int, ...]]:
        """The score bands as shown: a band whose teams hold fewer than MIN_GROUP_SIZE people is joined with
        the next (the last with the one before), so each shown band holds no team or enough people and
        nothing needs hiding. Decided on the whole deployment, so a filter never changes the bands."""
        if self._bands is None:
            who = defaultdict(set)
            for _cid, score, _gains, members in self.teams:
                if any(m in self.by_pid for m in members):
                    who[_band(score)] |= {self.user_of.get(m, ("participant", m)) for m in members}
            merged, pending, people = [], [], set()
            for i in range(len(BANDS)):
                if not who[i] and not pending:
                    merged.append((i,))  # an empty band holds no one: shown as 0 on its own
                    continue
                pending.append(i)
                people |= who[i]
                if len(people) >= self.mg:
                    merged.append(tuple(pending))
                    pending, people = [], set()
            while pending and merged:  # too few at the top: join the bands below until there are enough
                pending = list(merged.pop()) + pending
                people |= set().union(*(who[i] for i in pending))
                if len(people) >= self.mg:
                    break
            if pending:
                merged.append(tuple(pending))
            self._bands = merged
        return self._bands

    def band_of(self, score) -> int:
        """The shown band (index into ``merged_bands``) of a match score."""
        raw = _band(score)
        return next(k for k, group in enumerate(self.merged_bands()) if raw in group)

    def band_label(self, k: int) -> str:
        group = self.merged_bands()[k]
        return f"{BANDS[group[0]][0]:.1f}–{min(BANDS[group[-1]][1], 1.0):.1f}"

    def cohort_key(self, cohort_id):
        return self.cohort_row.get(cohort_id, OTHER)

    def dept_key(self, p: Person):
        return self.dept_row.get(p.department, OTHER)

    def gender_key(self, p: Person):
        return self.gender_row.get(p.gender, OTHER)

    # one function per breakdown: rows of groups for the people (and anonymous ratings) kept by ``keep``

    def people_groups(self, key, keep_person, keep_anon, anon_key=lambda cid: OTHER) -> dict:
        groups = defaultdict(PeopleGroup)
        for p in self.people:
            if keep_person(p):
                groups[key(p)].people.append(p)
        for (cid, _m), values in self.anon.items():
            if keep_anon(cid):
                groups[anon_key(cid)].add_anon(values)
        return groups

    def month_groups(self, key, keep_person, keep_anon) -> dict:
        groups = defaultdict(MonthGroup)
        for p in self.people:
            if keep_person(p):
                for m, stats in p.months.items():
                    groups[key(p, m)].entries.append((p, stats))
        for (cid, m), values in self.anon.items():
            if keep_anon(cid):
                groups[key(None, m, cid)].add_anon(values)
        return groups

    def team_groups(self, key, keep_cohort) -> dict:
        """Active teams with at least one member still taking part, grouped by ``key(cohort id, score)``."""
        groups = {}
        for cid, score, gains, members in self.teams:
            if not keep_cohort(cid) or not any(m in self.by_pid for m in members):
                continue
            groups.setdefault(key(cid, score), TeamGroup(self)).teams.append((score, gains, members))
        return groups

    @classmethod
    def read(cls, deployment_id: int) -> "Deployment":
        """The deployment's data, kept per process while its insights version stands (one query then)."""
        if insights_store.pending():  # this transaction changed rows the version does not count yet
            return cls(deployment_id)
        version = insights_store.version(deployment_id)  # read first: the rows read next are at least as new
        kept = _kept("data").get(deployment_id)
        if kept is not None and kept.version == version and kept.mg == min_group():
            return kept
        data = _kept("data")[deployment_id] = cls(deployment_id, version)
        return data

    def fingerprint(self) -> tuple:
        """Equal fingerprints give equal unfiltered pages: the version of everything read (or, read inside
        uncommitted changes, everything read itself)."""
        if self.version is not None:
            return ("version", self.version)
        return (tuple(c.id for c in self.cohorts),
                frozenset((p.pid, p.uid, p.cohort_id, p.department, p.gender, p.intake, p.both_days,
                           frozenset((m, tuple(s)) for m, s in p.months.items())) for p in self.people),
                frozenset((k, tuple(v)) for k, v in self.anon.items()))

    def set_atoms(self, families: dict) -> None:
        self._atoms.update(families)

    def atoms_ok(self, dimension: str) -> list[bool]:
        """Per column: does every cohort's share of every group of ``dimension`` hold 0 or >= MIN people?"""
        if dimension not in self._atoms:
            every = lambda *_: True  # noqa: E731
            if dimension == "department":
                groups = self.people_groups(lambda p: (p.cohort_id, self.dept_key(p)), every, every,
                                            lambda cid: (cid, OTHER))
            elif dimension == "gender":
                groups = self.people_groups(lambda p: (p.cohort_id, self.gender_key(p)), every, every,
                                            lambda cid: (cid, OTHER))
            elif dimension == "month":
                groups = self.month_groups(lambda p, m, cid=None: (p.cohort_id if p else cid, m), every, every)
            elif dimension == "band":
                groups = self.team_groups(lambda cid, score: (cid, self.band_of(score)), every)
            else:  # "teams": match quality per cohort
                groups = self.team_groups(lambda cid, score: cid, every)
            columns = None
            for g in groups.values():
                cells = g.quality_cells() if dimension == "teams" else g.cells(self.n_sessions)
                ok = [not c.data or len(c.who) >= self.mg for c in cells]
                columns = ok if columns is None else [a and b for a, b in zip(columns, ok)]
            self._atoms[dimension] = columns
        return self._atoms[dimension]


def _kept(what: str) -> dict:
    """What this app (its database) keeps between requests: "data" (deployment id -> its data at the version
    last read), "pages" ((deployment, version, MIN_GROUP_SIZE, filters, locale) -> what ``compute`` returned)
    and "unfiltered" (the audited unfiltered page, see ``_compute``)."""
    return current_app.extensions.setdefault("insights_kept", {"data": {}, "pages": {}, "unfiltered": {}})[what]


def forget_kept(app) -> None:
    """Drop what the app keeps (benchmarks: time a page rebuilt as after a data change)."""
    app.extensions.pop("insights_kept", None)
    app.extensions.pop("insights_html", None)  # the rendered pages (insights/kept.py)


def compute(deployment_id: int, filters: Filters) -> dict:
    """The insights page for these filters, kept per process while the deployment's insights version stands:
    a request then reads one integer. Nothing kept is used inside a transaction that changed insights rows.

    After a change, a page whose last build took longer than ``INSIGHTS_REBUILD_INLINE_SECONDS`` (a large
    deployment: the privacy audit re-runs over every row) is not rebuilt in the request: the kept page of the
    previous version is returned, marked ``stale`` with the time it was built, and once that page is
    ``INSIGHTS_REFRESH_SECONDS`` old a background thread of this process builds the new one (one per
    deployment at a time), so learners writing all day do not keep every process auditing. The earlier page
    was audited for the earlier data, so it reveals nothing the earlier page did not."""
    if insights_store.pending():
        return _compute(deployment_id, filters)
    from flask_babel import get_locale  # the page's words may be translated: one kept page per language

    version = insights_store.version(deployment_id)
    locale = str(get_locale())
    key = (deployment_id, min_group(), tuple(sorted(set(filters.cohort_ids))), filters.date_from,
           filters.date_to, filters.department, locale)
    pages = _kept("pages")
    kept = pages.get(key)
    if kept is not None and kept.version == version:
        return kept.page
    limit = current_app.config.get("INSIGHTS_REBUILD_INLINE_SECONDS", 2.0)
    if kept is not None and kept.seconds > limit:
        age = (datetime.now(timezone.utc) - kept.built_at).total_seconds()
        if age >= current_app.config.get("INSIGHTS_REFRESH_SECONDS", 120):
            # a copy: the view goes on to change the request's own Filters (an unknown department is dropped)
            _rebuild_in_background(key, deployment_id, dataclasses.replace(filters, cohort_ids=list(filters.cohort_ids)),
                                   locale)
        if has_request_context():
            g.insights_stale = True  # insights/kept.py: a page drawn from it is not kept as the new version's
        return {**kept.page, "stale": True, "built_at": kept.built_at}
    return _build(key, version, deployment_id, filters).page


@dataclass
class _KeptPage:
    version: int
    page: dict
    seconds: float  # how long building it took
    built_at: datetime


def _build(key, version: int, deployment_id: int, filters: Filters) -> _KeptPage:
    started = time.monotonic()
    page = _compute(deployment_id, filters)
    kept = _KeptPage(version, page, time.monotonic() - started, datetime.now(timezone.utc))
    keep_bounded(_kept("pages"), key, kept, 64)
    return kept


_KEEP_LOCK = threading.Lock()


def keep_bounded(kept: dict, key, value, limit: int) -> None:
    """Store ``value`` in a per-process cache of at most ``limit`` entries, dropping the oldest first.
    Request threads and the background rebuild write these caches: one lock for all of them."""
    with _KEEP_LOCK:
        while len(kept) >= limit:
            kept.pop(next(iter(kept)))
        kept[key] = value


_REBUILDING: dict = {}  # deployment id -> the thread building one of its pages (tests join it)
_REBUILDING_LOCK = threading.Lock()


def _rebuild_in_background(key, deployment_id: int, filters: Filters, locale: str) -> None:
    """A thread of this process builds the page (each process keeps its own pages); one per deployment at a
    time, since they read the same rows."""
    from flask_babel import force_locale

    app = current_app._get_current_object()

    def build():
        try:
            with app.app_context(), force_locale(locale):
                try:
                    _build(key, insights_store.version(deployment_id), deployment_id, filters)
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the next request tries again; the error is logged
            logging.getLogger(__name__).exception("insights page rebuild failed deployment=%s", deployment_id)
        finally:
            with _REBUILDING_LOCK:
                _REBUILDING.pop(deployment_id, None)

    with _REBUILDING_LOCK:
        if deployment_id in _REBUILDING:
            return
        thread = _REBUILDING[deployment_id] = threading.Thread(target=build, name="insights-rebuild", daemon=True)
    thread.start()


# --- suppression ------------------------------------------------------------------------------------------------

def _complement(rows: list[list[Cell]], j: int, mg: int, hidden: set) -> set:
    """Column ``j`` of a breakdown whose total is known: with a hidden group, hide the smallest shown groups
    too, until at least two groups with at least ``mg`` people between them are hidden."""
    hidden = set(hidden)
    while hidden:
        union = set().union(*(rows[i][j].who for i in hidden))
        if len(hidden) >= 2 and len(union) >= mg:
            break
        shown = [i for i, row in enumerate(rows) if i not in hidden and row[j].data]
        if not shown:
            break  # everything with data is hidden already
        hidden.add(min(shown, key=lambda i: (len(rows[i][j].who), i)))
    return hidden


def _suppress(rows: list[list[Cell]], mg: int) -> dict[int, set]:
    """Per column, the rows held back: too few respondents, then complementary suppression."""
    return defaultdict(set, {j: _complement(rows, j, mg, {i for i, row in enumerate(rows)
                                                          if row[j].data and len(row[j].who) < mg})
                             for j in range(len(rows[0]) if rows else 0)})


def _primary(cells: list[Cell], mg: int, allowed=None) -> list:
    """Each cell shown when it has the respondents and its column is ``allowed`` (a filter's extra test)."""
    allowed = allowed or [True] * len(cells)
    return [c.value if not c.data or (ok and len(c.who) >= mg) else SUPPRESSED for c, ok in zip(cells, allowed)]


@dataclass
class Breakdown:
    """An unfiltered breakdown: its groups, their cells, and per column the rows held back."""

    kind: str  # "cohort" | "department" | "gender" | "month": the field of a person it groups by
    keys: list
    cells: list[list[Cell]]
    hidden: dict[int, set]  # column -> rows

    def values(self) -> list[list]:
        return [[SUPPRESSED if i in self.hidden[j] else c.value for j, c in enumerate(row)]
                for i, row in enumerate(self.cells)]


# --- the audit: every figure L&D can reach, as linear equations --------------------------------------------------
#
# L&D may well know who is in which cohort, department and gender; what must stay unknown is each person's
# answers. Any figure is a sum over the people it covers (a mean with its number of answers, which we
# assume known, the worst case), so all figures together are a system of linear equations. Complementary
# suppression protects each table against its total, but two tables can be played against each other
# ("Other department" minus "Cohort 2" may be one person). So after suppression, the figures the
# unfiltered page shows, plus the cohort shares that filters can show, are checked together: if the sum
# over a group of fewer than MIN_GROUP_SIZE people (people who share cohort, department, gender and month,
# or one person across months) is in the span of those equations, more is held back and the check repeats.

NO_REFLECTION = "no reflection"  # the month of someone with no reflection (their 0 is an answer too)
# quantity -> (column in people tables, column in the trend table, which month stats hold it)
QUANTITIES = {"intake": (1, None, None), "both_days": (2, None, None), "reflections": (3, 0, 0),
              "own": (4, 1, 2), "partner": (5, 2, 4)}


def _classes(data: "Deployment") -> dict:
    """Per quantity, people's contributions grouped by (cohort, department, gender, month): the finest groups
    any figure can tell apart."""
    out = {q: defaultdict(set) for q in QUANTITIES}
    for p in data.people:
        d, g = data.dept_key(p), data.gender_key(p)
        out["intake"][(p.cohort_id, d, g, None)].add(p.uid)
        out["both_days"][(p.cohort_id, d, g, None)].add(p.uid)
        for m, stats in p.months.items():
            for q in ("reflections", "own", "partner"):
                if stats[QUANTITIES[q][2]]:
                    out[q][(p.cohort_id, d, g, m)].add(p.uid)
        if not p.reflections:
            out["reflections"][(p.cohort_id, d, g, NO_REFLECTION)].add(p.uid)
    for (cid, m), values in data.anon.items():
        for q, at in (("own", 1), ("partner", 3)):
            if values[at]:
                out[q][(cid, OTHER, OTHER, m)].add(ANON)
    return out


def _basis(rows):
    """An orthonormal basis (as rows) of the row space of a small dense matrix."""
    import numpy as np

    if rows.shape[0] == 0 or rows.shape[1] == 0:
        return np.zeros((0, rows.shape[1]))
    _, s, vt = np.linalg.svd(rows, full_matrices=False)
    return vt[s > max(s.max(initial=0.0), 1.0) * 1e-9]


def _solvable(figures: list, local: list[bool], n: int, targets: list[list[int]]) -> list[bool]:
    """For each target (a set of columns), can the sum over it be computed from the figures?

    ``figures`` are 0/1 rows over ``n`` columns (people's groups), each given by the columns it holds;
    ``local`` says which ones stay within one cohort (a cohort's row, a cohort's share of a group). A target
    can be computed when its indicator vector lies in the row space of the figures. Solved block by block, so
    the work grows with the number of cohorts, not with its square or cube:

    - columns joined by local figures form a block (columns that no local figure holds are grouped by which
      global figures hold them); every local figure lies within one block;
    - global figures (overview, department, gender, month rows) combined with weights ``alpha`` can be
      cancelled inside block b by its local figures exactly when ``alpha' C_b alpha = 0``, where
      ``C_b = (G_b P_b)(G_b P_b)'`` and ``P_b`` projects away the block's local row space;
    - so a target inside blocks B is in the row space exactly when it is in the span of B's local figures and
      of the global figures restricted to B, weighted by any ``alpha`` in the null space of the sum of
      ``C_b`` over the other blocks. Such an ``alpha`` adds something only when B alone holds a direction of
      the global figures: in coordinates where the sum K of every ``C_b`` is the identity, ``C_B`` has an
      eigenvalue 1. Its trace is then at least 1, and the traces add up to rank(K) (the number of global
      figures at most), so only a few blocks need that eigen-decomposition.

    Small dense matrices throughout, on one thread (a threaded linear-algebra library on a busy server
    spins more than it computes)."""
    import numpy as np
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components
    from threadpoolctl import threadpool_limits

    loc = [np.asarray(f, dtype=np.int64) for f, is_local in zip(figures, local) if is_local]
    glob = [np.asarray(f, dtype=np.int64) for f, is_local in zip(figures, local) if not is_local]
    g = sparse.csr_matrix((np.ones(sum(map(len, glob))), np.concatenate(glob or [np.zeros(0, np.int64)]),
                           np.cumsum([0] + [len(f) for f in glob])), shape=(len(glob), n)).tocsc()
    # blocks: columns joined by local figures (a graph of columns and local figures)
    owner = np.concatenate([np.full(len(f), k) for k, f in enumerate(loc)] or [np.zeros(0, np.int64)])
    cols = np.concatenate(loc or [np.zeros(0, np.int64)])
    graph = sparse.coo_matrix((np.ones(len(cols)), (cols, n + owner)), shape=(n + len(loc), n + len(loc)))
    _, label = connected_components(graph, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[cols] = True
    block = label[:n].copy()
    if (~touched).any():  # columns without a local figure: one block per pattern of global figures
        _, pattern = np.unique(g[:, np.flatnonzero(~touched)].toarray().T, axis=0, return_inverse=True)
        block[~touched] = label.max() + 1 + pattern.ravel()
    _, block = np.unique(block, return_inverse=True)
    block = block.ravel()
    order = np.argsort(block, kind="stable")
    starts = np.searchsorted(block[order], np.arange(block.max() + 2 if n else 1))
    members = [order[starts[b]:starts[b + 1]] for b in range(len(starts) - 1)]
    local_of = defaultdict(list)
    for f in loc:
        local_of[int(block[f[0]])].append(f)
    position = np.empty(n, dtype=np.int64)

    def local_rows(blocks, cols_b):
        position[cols_b] = np.arange(len(cols_b))
        rows = np.zeros((sum(len(local_of[b]) for b in blocks), len(cols_b)))
        k = 0
        for b in blocks:
            for f in local_of[b]:
                rows[k, position[f]] = 1.0
                k += 1
        return rows

    by_block = g[:, order].tocsc()  # the columns block by block: a block's are one contiguous slice

    def global_rows(b):
        """The global figures on block b: the indexes of those that hold any, and their dense rows."""
        gb = by_block[:, starts[b]:starts[b + 1]].tocsr()
        touching = np.flatnonzero(np.diff(gb.indptr))
        return touching, gb[touching].toarray()

    with threadpool_limits(1):
        parts = []  # per block: (global figures touching it, C_b on those)
        total = np.zeros((len(glob), len(glob)))
        for b, cols_b in enumerate(members):
            touching, gb = global_rows(b)
            q = _basis(local_rows([b], cols_b))
            m = gb - (gb @ q.T) @ q
            c = m @ m.T
            parts.append((touching, c))
            total[np.ix_(touching, touching)] += c
        w, v = np.linalg.eigh(total) if len(glob) else (np.zeros(0), np.zeros((0, 0)))
        keep = w > max(float(w.max(initial=0.0)), 1.0) * 1e-9
        whiten = v[:, keep] / np.sqrt(w[keep])  # W: W' K W = I on the range of K
        gram = whiten @ whiten.T

        def part_of(blocks):
            c = np.zeros((len(glob), len(glob)))
            for b in blocks:
                touching, cb = parts[b]
                c[np.ix_(touching, touching)] += cb
            return c

        def free_weights(blocks) -> np.ndarray:
            """Weights of the global figures that the blocks outside ``blocks`` cancel, beyond the common ones."""
            c = part_of(blocks)
            if not len(glob) or float((c * gram).sum()) < 1 - 1e-6:  # trace of W' C_B W: no eigenvalue 1
                return np.zeros((len(glob), 0))
            s_val, s_vec = np.linalg.eigh(whiten.T @ c @ whiten)
            return whiten @ s_vec[:, s_val >= 1 - 1e-9]

        by_blocks = defaultdict(list)
        for i, t in enumerate(targets):
            by_blocks[tuple(sorted(set(block[np.asarray(t, dtype=np.int64)].tolist())))].append(i)
        out = [False] * len(targets)
        for blocks, which in by_blocks.items():
            cols_b = np.concatenate([members[b] for b in blocks])
            weights = free_weights(blocks)
            rows = local_rows(blocks, cols_b)
            if weights.shape[1]:
                rows = np.vstack([rows, weights.T @ g[:, cols_b].toarray()])
            q = _basis(rows)
            position[cols_b] = np.arange(len(cols_b))
            for i in which:
                t = position[np.asarray(targets[i], dtype=np.int64)]
                projected = q[:, t].sum(axis=1)
                out[i] = float(projected @ projected) >= len(t) - 1e-6
    return out


def _audit(data: "Deployment", overview: list, tables: dict, families: dict) -> None:
    """Hold back more (``tables`` hidden sets, ``overview`` flags, filter ``families``) until no group of
    fewer than MIN_GROUP_SIZE people can be solved from everything shown. Changes its arguments in place."""
    done: list = []  # (what a quantity started from, what had to be held back): intake and attendance, or the
    # two gains, usually start alike, and the answer is reused
    all_classes = _classes(data)
    for quantity, (j_people, j_trend, _) in QUANTITIES.items():
        column = lambda kind, jt=j_trend, jp=j_people: jt if kind == "month" else jp  # noqa: E731
        classes = all_classes[quantity]
        start = (classes, overview[j_people],
                 [None if column(bd.kind) is None else set(bd.hidden[column(bd.kind)]) for bd in tables.values()],
                 [bool(c and column(f) is not None and c[column(f)]) for f, c in families.items()])

        def hold_back(action, column=column, j_people=j_people):
            if action[0] == "family":
                families[action[1]][column(action[1])] = False
            elif action[0] == "cell":
                bd, j = tables[action[1]], column(tables[action[1]].kind)
                bd.hidden[j] = _complement(bd.cells, j, data.mg, bd.hidden[j] | {action[2]})
            else:
                overview[j_people] = False

        actions = next((acts for before, acts in done if before == start), None)
        if actions is None:
            actions = []
            if any(len(who) < data.mg for who in classes.values()):  # else there is no small group to find
                for action in _leak_repairs(data, classes, column, overview[j_people], tables, families):
                    hold_back(action)
                    actions.append(action)
            done.append((start, actions))
        else:
            for action in actions:
                hold_back(action)


def _leak_repairs(data: "Deployment", classes: dict, column, overview_shown: bool, tables: dict, families: dict):
    """Yield what to hold back next while a small group can be solved; the caller applies each one."""
    import numpy as np

    mg, sigs = data.mg, list(classes)
    codes: dict = {}
    code = lambda value: codes.setdefault(value, len(codes))  # noqa: E731
    fields = {"cohort": np.array([code(data.cohort_key(s[0])) for s in sigs]),
              "department": np.array([code(s[1]) for s in sigs]), "gender": np.array([code(s[2]) for s in sigs]),
              "month": np.array([code(s[3]) for s in sigs])}
    cohort = np.array([s[0] for s in sigs])
    targets = [[i] for i, s in enumerate(sigs) if len(classes[s]) < mg]  # within one cohort, department, ...
    alone = defaultdict(list)  # one person's groups, when every group they are in holds only them
    for i, s in enumerate(sigs):
        for uid in classes[s]:
            alone[uid].append(i if classes[s] == {uid} else None)
    targets += [mine for mine in alone.values() if len(mine) > 1 and None not in mine]
    groups = {kind: _positions(values) for kind, values in fields.items()}  # value code -> its columns
    shares = {}  # family -> [columns of each (cohort, value) share], in (cohort, value) order
    for family, at in (("department", 1), ("gender", 2), ("month", 3)):
        pairs = sorted({(s[0], code(s[at])) for s in sigs if s[3] != NO_REFLECTION})
        by_pair = _positions([(c, x) for c, x in zip(cohort.tolist(), fields[family].tolist())])
        shares[family] = [by_pair[pair] for pair in pairs]
    everyone = np.arange(len(sigs))
    while True:
        figures, handles, local = [], [], []
        if overview_shown:
            figures.append(everyone)
            handles.append(("overview",))
            local.append(False)
        for name, bd in tables.items():
            j = column(bd.kind)
            for i, key in enumerate(bd.keys if j is not None else []):
                if i not in bd.hidden[j]:
                    figures.append(groups[bd.kind].get(code(key), everyone[:0]))
                    handles.append(("cell", name, i))
                    local.append(bd.kind == "cohort")
        for family, columns in families.items():
            j = column(family)
            if j is None or not columns or not columns[j]:
                continue
            figures += shares[family]
            handles += [("family", family)] * len(shares[family])
            local += [True] * len(shares[family])
        if not figures:
            return
        leak = next((t for t, solved in zip(targets, _solvable(figures, local, len(sigs), targets)) if solved),
                    None)
        if leak is None:
            return
        in_leak = np.zeros(len(sigs), dtype=bool)
        in_leak[leak] = True
        covering = [h for h, f in zip(handles, figures) if in_leak[f].any()]
        family = next((h for h in covering if h[0] == "family"), None)  # filters' extra shares go first
        cells = [h for h in covering if h[0] == "cell"]
        if family:
            yield family
        elif cells:  # the covering cell with the fewest people
            yield min(cells, key=lambda h: (len(tables[h[1]].cells[h[2]][column(tables[h[1]].kind)].who), h[1:]))
        else:
            yield ("overview",)
            overview_shown = False


def _positions(values) -> dict:
    """value -> the positions holding it (as an index array)."""
    import numpy as np

    out = defaultdict(list)
    for i, v in enumerate(values):
        out[v].append(i)
    return {v: np.array(ix, dtype=np.int64) for v, ix in out.items()}


# --- the tables -------------------------------------------------------------------------------------------------

# Labels are lazy: the tables (and the cached unfiltered page) hold them, and each page or CSV shows them in
# the language of the person viewing it. Code never looks a row up by its label (see ``headline``).
COLUMNS = [_l("Group"), _l("People"), _l("Intake completed (%)"), _l("Attended both days (%)"),
           _l("Reflections completed (%)"), _l("Own gain reported (mean 1-5)"), _l("Gain seen in partner (mean 1-5)")]
TREND_COLUMNS = [_l("Month"), _l("Reflections submitted"), _l("Own gain (mean)"), _l("Gain seen in partner (mean)")]
QUALITY_MEASURES = [_l("Teams"), _l("Teams where the matcher expected both sides to gain (%)"),
                    _l("Teams where both members report gaining (mean own gain 3 or more) (%)")]
GENDER_LABELS = {"woman": _l("Woman"), "man": _l("Man"), "non-binary": _l("Non-binary"),
                 "self-described": _l("Self-described")}
FUNNEL_COLUMNS = [_l("Stage"), _l("People"), _l("Share of those enrolled (%)")]
FUNNEL_STAGES = [_l("Enrolled"), _l("Intake completed"), _l("Matched with a partner"), _l("Attended both lab days"),
                 _l("Wrote at least one reflection"), _l("Held at least one follow-up meeting")]
FOLLOW_UP_COLUMNS = [_l("Cohort"), _l("Meetings due"), _l("Check-ins answered"), _l("Follow-ups held")]
MEASURE_COLUMNS = [_l("Measure"), _l("Value")]
TITLES = {"funnel": _l("From enrolment to follow-up"), "overview": _l("Overview"), "by_cohort": _l("By cohort"),
          "by_department": _l("By department"), "by_gender": _l("By gender"),
          "match_scores": _l("Match score distribution (teams per score band)"),
          "match_quality": _l("Match quality"), "trend": _l("Reflections over time (by month submitted)"),
          "follow_ups": _l("Follow-up meetings (partners asked “Did you meet?” after each)"),
          "withdrawal_reasons": _l("Why people withdrew (reasons given, all cohorts)")}
REASON_LABELS = {"time": _l("No time"), "job": _l("Role changed or leaving the organisation"),
                 "personal": _l("Health or personal reasons"), "expectations": _l("The lab was not what they expected"),
                 "partner": _l("The pairing did not work"), "other": _l("Another reason")}


def _notes(mg: int) -> dict:
    return {
        "hidden": _l("“not shown”: fewer than %(n)s people answered, or held back with such a group so that it "
                     "cannot be worked out from the totals.", n=mg),
        "filtered": _l("With filters, a column is shown only where no cohort's or department's part of a group "
                       "holds 1 to %(n)s people: otherwise comparing it with other filters could single "
                       "someone out.", n=mg - 1),
        "department": _l("Not shown with a department filter: set against the other tables it could single someone "
                         "out. Clear the department filter to see it."),
        "partial": _l("“Other cohorts” is only partly selected: its figures are “not shown”. Select all of its "
                      "cohorts or none."),
        "empty": _l("Fewer than %(n)s people match these filters: figures are not shown.", n=mg),
    }


def follow_ups_held(participant_ids: set[int]) -> set[int]:
    """Participants (of these) whose team held at least one follow-up meeting, from the check-ins."""
    from .check_ins import people_who_met  # check_ins reaches the outbox; insights only needs this read

    return people_who_met(participant_ids)


def _funnel(data: "Deployment", keep, overview: list, department) -> Table:
    """Enrolled -> intake -> matched -> attended -> reflected -> follow-ups held, as people.

    Enrolled, intake and attended are the overview's own figures (as counts), hidden where it hides them.
    Matched, reflected and follow-ups held are new splits of the same people: each is shown only when in
    every cohort both sides of the split (those at the stage and those not) hold no one or at least
    MIN_GROUP_SIZE people, so no filter and no cohort row can single someone out; never with a department
    filter (department by stage set against the cohort rows could)."""
    mg, people = data.mg, [p for p in data.people if keep(p)]
    n = overview[0]

    def from_share(share):
        if share is SUPPRESSED or n is SUPPRESSED:
            return SUPPRESSED
        return None if share is None else round(share * n / 100)

    def split(at_stage: set[int]):
        if department or n is SUPPRESSED:
            return SUPPRESSED
        sides = defaultdict(set)
        for p in data.people:
            sides[(p.cohort_id, p.pid in at_stage)].add(p.uid)
        if any(0 < len(users) < mg for users in sides.values()):
            return SUPPRESSED
        return sum(1 for p in people if p.pid in at_stage)  # participants, as "Enrolled" counts them

    matched = {m for _cid, _score, _gains, members in data.teams for m in members}
    counts = [n, from_share(overview[1]), split(matched), from_share(overview[2]),
              split({p.pid for p in data.people if p.reflections}),
              split(follow_ups_held({p.pid for p in data.people}))]
    rows = [[stage, count, _pct(count, n) if isinstance(count, int) and isinstance(n, int) else
             (count if count is SUPPRESSED else None)] for stage, count in zip(FUNNEL_STAGES, counts)]
    return _table("funnel", FUNNEL_COLUMNS, rows, [""])


def headline(tables: dict) -> list[tuple[str, object, str]]:
    """The figures that answer "is it working?" first: (label, value, unit), from tables already protected.
    Rows are taken by position (``COLUMNS``, ``FUNNEL_STAGES``): their labels are in the viewer's language."""
    overview = [row[1] for row in tables["overview"].rows]  # COLUMNS[1:] in order
    matched = tables["funnel"].rows[2][2]  # FUNNEL_STAGES[2], matched with a partner: its share
    return [(_l("People enrolled"), overview[0], ""), (_l("Matched with a partner"), matched, "%"),
            (_l("Own gain reported (mean, 1 to 5)"), overview[4], ""),
            (_l("Gain seen in the partner (mean, 1 to 5)"), overview[5], "")]


def _table(key, columns, rows, notes=()) -> Table:
    note = " ".join(str(n) for n in notes if n)
    return Table(key, TITLES[key], columns, rows, note)




def _compute(deployment_id: int, filters: Filters) -> dict:
    data = Deployment.read(deployment_id)
    mg, ns = data.mg, data.n_sessions
    notes = _notes(mg)
    names = {c.id: c.name for c in data.cohorts}
    every = lambda *_: True  # noqa: E731

    def has_hidden(rows):
        return any(v is SUPPRESSED for row in rows for v in row)

    def label(key, kind):
        if kind == "month":
            return key or _l("Date not recorded")
        if key is not OTHER:
            if kind == "gender":
                return GENDER_LABELS.get(key, str(key).capitalize())
            return names.get(key, key) if kind == "cohort" else key
        return _l("Other cohorts (fewer than %(n)s people each)", n=mg) if kind == "cohort" else \
            _l("Other (smaller groups and not stated)")

    def ordered(keys):
        return sorted(keys, key=lambda k: (k is OTHER, k is None, f"{k:012d}" if isinstance(k, int) else str(k)))

    def protected(kind, groups, cells_of=lambda g: g.cells(ns)) -> Breakdown:
        keys = ordered(groups)
        cells = [cells_of(groups[k]) for k in keys]
        return Breakdown(kind, keys, cells, _suppress(cells, mg))

    def rows_of(bd: Breakdown, label_of=None):
        return [[(label_of or (lambda k: label(k, bd.kind)))(k)] + v for k, v in zip(bd.keys, bd.values())]

    # 1. The unfiltered page, always built: every filtered figure is checked against it. It depends on the
    # rows read and nothing else, so it is kept (per process) until any of them changes.
    key = (deployment_id, mg, data.fingerprint())
    kept = _kept("unfiltered")  # (deployment, MIN_GROUP_SIZE, fingerprint) -> the audited unfiltered page
    if key in kept:
        overview_cells, overview_shown, base, families = kept[key]
        data.set_atoms(families)
    else:
        overview_cells = data.people_groups(lambda p: 0, every, every, lambda cid: 0).get(0, PeopleGroup()).cells(ns)
        overview_shown = [not c.data or len(c.who) >= mg for c in overview_cells]
        base = {"by_cohort": protected("cohort", data.people_groups(lambda p: data.cohort_key(p.cohort_id), every,
                                                                     every, data.cohort_key)),
                "by_department": protected("department", data.people_groups(data.dept_key, every, every)),
                "by_gender": protected("gender", data.people_groups(data.gender_key, every, every)),
                "trend": protected("month", data.month_groups(lambda p, m, cid=None: m, every, every))}
        # 2. Tables played against each other, and the cohort shares filters can show: hold back more if needed.
        families = {f: data.atoms_ok(f) for f in ("department", "gender", "month")}
        _audit(data, overview_shown, base, families)
        keep_bounded(kept, key, (overview_cells, overview_shown, base, families), 32)
    all_overview = [c.value if ok else SUPPRESSED for c, ok in zip(overview_cells, overview_shown)]
    cohort_keys, all_by_cohort = base["by_cohort"].keys, rows_of(base["by_cohort"])
    dept_keys, all_by_dept = base["by_department"].keys, rows_of(base["by_department"])
    offered = [k for k, row in zip(dept_keys, all_by_dept) if k is not OTHER and row[1] is not SUPPRESSED]
    department = filters.department if filters.department in offered else None

    # 3. The filters.
    selected = [c for c in data.cohorts
                if (not filters.cohort_ids or c.id in filters.cohort_ids)
                and (not filters.date_from or _cohort_day(c) >= filters.date_from)
                and (not filters.date_to or _cohort_day(c) <= filters.date_to)]
    chosen = {c.id for c in selected}
    cohort_filter = chosen != {c.id for c in data.cohorts}
    filtered = cohort_filter or department
    in_sel = (lambda cid: cid in chosen) if cohort_filter else every
    in_dept = (lambda p: data.dept_key(p) == department) if department else every
    keep = lambda p: in_sel(p.cohort_id) and in_dept(p)  # noqa: E731
    keep_anon = (lambda cid: False) if department else in_sel
    tables: dict[str, Table] = {}

    # overview
    sel_group = data.people_groups(lambda p: 0, keep, keep_anon, lambda cid: 0).get(0, PeopleGroup())
    sel_cells = sel_group.cells(ns)
    if not filtered:
        overview = all_overview
    elif department and not cohort_filter:
        overview = all_by_dept[dept_keys.index(department)][1:]
    elif department:
        overview = _primary(sel_cells, mg, data.atoms_ok("department"))
    else:
        cohort_sets = defaultdict(set)
        for c in data.cohorts:
            cohort_sets[data.cohort_key(c.id)].add(c.id)
        whole = all(not (chosen & cohort_sets[k]) or cohort_sets[k] <= chosen for k in cohort_keys)
        aligned = []
        for j in range(len(sel_cells)):
            hidden = set().union(*(cohort_sets[k] for k, row in zip(cohort_keys, all_by_cohort)
                                   if row[j + 1] is SUPPRESSED))
            aligned.append(whole and overview_shown[j] and (not (chosen & hidden) or hidden <= chosen))
        overview = _primary(sel_cells, mg, aligned)
    few = sel_cells[0].data and len(sel_cells[0].who) < mg
    tables["overview"] = _table("overview", MEASURE_COLUMNS,
                                [[name, value] for name, value in zip(COLUMNS[1:], overview)],
                                [notes["empty"] if few else "", notes["hidden"] if SUPPRESSED in overview else ""])

    tables["funnel"] = _funnel(data, keep, overview, department)
    if any(v is SUPPRESSED for row in tables["funnel"].rows for v in row):
        tables["funnel"].note = " ".join(str(n) for n in (notes["hidden"], tables["funnel"].note) if n)

    # by cohort
    if not filtered:
        rows, extra = all_by_cohort, ""
    elif not department:
        rows, extra = [], ""
        for k, row in zip(cohort_keys, all_by_cohort):
            members = {c.id for c in data.cohorts if data.cohort_key(c.id) == k}
            if members & chosen and members <= chosen:
                rows.append(row)
            elif members & chosen:
                part = data.people_groups(lambda p: 0, lambda p, m=members: p.cohort_id in m and keep(p),
                                          lambda cid, m=members: cid in m and keep_anon(cid), lambda cid: 0)
                cells = part.get(0, PeopleGroup()).cells(ns)
                rows.append([row[0]] + [SUPPRESSED if c.data else c.value for c in cells])
                extra = notes["partial"]
    else:
        groups = data.people_groups(lambda p: data.cohort_key(p.cohort_id), keep, keep_anon, data.cohort_key)
        allowed = data.atoms_ok("department")
        rows = [[label(k, "cohort")] + _primary(groups[k].cells(ns), mg, allowed) for k in ordered(groups)]
        extra = notes["filtered"] if has_hidden(rows) else ""
    tables["by_cohort"] = _table("by_cohort", COLUMNS, rows, [notes["hidden"] if has_hidden(rows) else "", extra])

    # by department
    if not filtered:
        rows = all_by_dept
    elif department and not cohort_filter:
        rows = [all_by_dept[dept_keys.index(department)]]
    else:
        groups = data.people_groups(data.dept_key, keep, keep_anon)
        allowed = data.atoms_ok("department")
        rows = [[label(k, "department")] + _primary(groups[k].cells(ns), mg, allowed) for k in ordered(groups)]
    tables["by_department"] = _table("by_department", COLUMNS, rows, [
        notes["hidden"] if has_hidden(rows) else "", notes["filtered"] if filtered and has_hidden(rows) else ""])

    # the other breakdowns: unfiltered, or for a selection of cohorts where every cohort's share is safe
    def other_breakdown(key, columns, unfiltered, groups_for, family, label_of, cells_of=lambda g: g.cells(ns)):
        if department:
            return _table(key, columns, [], [notes["department"]])
        if not cohort_filter:
            rows = rows_of(unfiltered(), label_of)
        else:
            groups, allowed = groups_for(), data.atoms_ok(family)
            rows = [[label_of(k)] + _primary(cells_of(groups[k]), mg, allowed) for k in ordered(groups)]
        return _table(key, columns, rows, [notes["hidden"] if has_hidden(rows) else "",
                                           notes["filtered"] if cohort_filter and has_hidden(rows) else ""])

    tables["by_gender"] = other_breakdown(
        "by_gender", COLUMNS, lambda: base["by_gender"], lambda: data.people_groups(data.gender_key, keep, keep_anon),
        "gender", lambda k: label(k, "gender"))
    band_label = {k: data.band_label(k) for k in range(len(data.merged_bands()))}

    def band_groups(keep_cohort):
        groups = data.team_groups(lambda cid, score: data.band_of(score), keep_cohort)
        for i in band_label:  # an empty band is shown as 0: it holds no one
            groups.setdefault(i, TeamGroup(data))
        return groups

    tables["match_scores"] = other_breakdown(
        "match_scores", [_l("Score band"), _l("Teams")], lambda: protected("band", band_groups(every)),
        lambda: band_groups(in_sel), "band", band_label.get)
    teams = lambda keep_cohort: {0: data.team_groups(lambda cid, score: 0, keep_cohort).get(0, TeamGroup(data))}  # noqa
    quality = other_breakdown("match_quality", MEASURE_COLUMNS,
                              lambda: protected("teams", teams(every), lambda g: g.quality_cells()),
                              lambda: teams(in_sel), "teams", str, lambda g: g.quality_cells())
    if quality.rows:  # one row of three measures, shown as three rows
        quality.rows = [[name, v] for name, v in zip(QUALITY_MEASURES, quality.rows[0][1:])]
    tables["match_quality"] = quality
    tables["trend"] = other_breakdown(
        "trend", TREND_COLUMNS, lambda: base["trend"], lambda: data.month_groups(lambda p, m, cid=None: m, keep,
                                                                                  keep_anon),
        "month", lambda m: label(m, "month"))
    tables["follow_ups"] = _table("follow_ups", FOLLOW_UP_COLUMNS, *follow_up_rows(selected, department, mg, notes,
                                                                                  total=not cohort_filter))
    tables["withdrawal_reasons"] = _table("withdrawal_reasons", [_l("Reason"), _l("People")],
                                          *withdrawal_reason_rows(data.cohorts, filtered, mg, notes))
    return {"tables": tables, "cohorts": data.cohorts, "selected": selected, "people": len(sel_group.people),
            "min_group": mg, "departments": offered, "department": department}


def _pct(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def _mean(total, n):
    return round(total / n, 2) if n else None


def follow_up_rows(cohorts: list[Cohort], department, mg: int, notes: dict,
                   total: bool = True) -> tuple[list[list], list[str]]:
    """Per cohort: meetings due, check-ins answered, follow-ups held (``check_ins.cohort_counts``).

    A cohort's row is shown when at least ``mg`` people answered a check-in there; the "All cohorts"
    row only unfiltered (totals of two selections could be subtracted) and when the hidden rows
    together stand for at least ``mg`` people. Not split by department (that filter shows nothing here)."""
    from .check_ins import cohort_counts

    if department:
        return [], [notes["department"]]
    counts = cohort_counts([c.id for c in cohorts])
    rows, hidden_people, hidden = [], 0, 0
    for c in cohorts:
        n = counts[c.id]
        if not n["meetings_due"]:
            continue
        shown = n["respondents"] >= mg
        rows.append([c.name] + ([n["meetings_due"], n["answered"], n["held"]] if shown else [SUPPRESSED] * 3))
        if not shown:
            hidden, hidden_people = hidden + 1, hidden_people + n["respondents"]
    if total and len(rows) > 1:
        total = [sum(counts[c.id][k] for c in cohorts) for k in ("meetings_due", "answered", "held")]
        safe = not hidden or hidden_people >= mg
        rows.append([_l("All cohorts")] + (total if safe else [SUPPRESSED] * 3))
    return rows, [notes["hidden"] if any(SUPPRESSED in r for r in rows) else ""]


def withdrawal_reason_rows(cohorts: list[Cohort], filtered, mg: int, notes: dict) -> tuple[list[list], list[str]]:
    """How many people gave each reason for withdrawing, across all cohorts (never under a filter: two
    selections could be subtracted). Nothing when fewer than ``mg`` gave one; a count of 1 to mg-1 is
    hidden, and then the next smallest too, so that the total cannot give it back."""
    from .check_ins import withdrawal_reasons

    if filtered:
        return [], [_l("Not shown with filters: comparing two selections could single someone out.")]
    counts = withdrawal_reasons([c.id for c in cohorts])
    if sum(counts.values()) < mg:
        return [], [_l("Fewer than %(n)s people gave a reason for withdrawing: not shown.", n=mg)]
    hidden = {k for k, n in counts.items() if 0 < n < mg}
    if len(hidden) == 1:
        shown = sorted((n, k) for k, n in counts.items() if n >= mg)
        hidden.add(shown[0][1])
    rows = [[REASON_LABELS[k], SUPPRESSED if k in hidden else n] for k, n in counts.items()]
    return rows, [notes["hidden"] if hidden else ""]
