"""What the L&D insights read, kept cheap to read at enterprise size (50,000 people, 1,000,000 reflections).

Two things, both maintained by session hooks at every commit, whatever wrote the rows:

- ``insight_tally``: submitted reflections summed per participant and month (count, sums and counts of the
  two gain ratings), and anonymous ratings per cohort and month (``participant_id`` None). Insights read
  these rows (one per person and month) instead of every reflection. A participant's rows (or a cohort's
  anonymous rows) are recomputed from scratch, in SQL, for every participant whose reflections changed in
  the transaction, so the table always equals ``tally_select`` over the current rows.
- ``deployment.insights_version``: a new random number for the deployments whose insights inputs changed (people,
  attendance, reflections, anonymous ratings, teams, check-ins, cohorts). Insights keep their audited
  page per process under this number: a request reads one integer instead of the whole deployment.

Bulk statements (``session.execute(delete(Model)...)``) cannot say which rows they touched: a bulk
statement on a tracked table bumps every deployment's version, and a bulk statement on ``reflection`` or
``anonymous_rating`` rebuilds the whole tally at commit, unless the caller noted the participants or
cohorts itself (``note_participants`` / ``note_cohorts``) and marked the statement with
``execution_options(insight_tally="noted")``, as deletion and retention do.
"""
from __future__ import annotations

import secrets

from sqlalchemy import delete, event, func, insert, inspect, literal, select, update

from ..extensions import db
from ..models import (AnonymousRating, Attendance, CheckIn, Cohort, Course, Deployment, InsightTally, Participant,
                      Reflection, Team, TeamMember)
from ..states import ReflectionStatus
from . import curriculum as cur

NOTED = "noted"
_KEY = "insights_store"  # session.info entry: what this transaction changed
_TRACKED = (Cohort, Participant, Attendance, Reflection, AnonymousRating, Team, TeamMember, CheckIn, Course)


def month_of(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def tally_select(participant_ids=None, cohort_ids=None, *, everything: bool = False):
    """(cohort_id, participant_id, month, reflections, gs_sum, gs_n, gp_sum, gp_n) per participant and month
    from the submitted reflections of these participants (or all), each answer document read once."""
    r = db.select(Reflection.cohort_id.label("cid"), Reflection.participant_id.label("pid"),
                  month_of(Reflection.submitted_at).label("month"),
                  Reflection.answers[cur.GAIN_SELF].as_integer().label("gs"),
                  Reflection.answers[cur.GAIN_PARTNER].as_integer().label("gp")).where(
        Reflection.status == ReflectionStatus.SUBMITTED,
        # written per session before the half-day reflections, and copied into them: not counted twice
        Reflection.session_id.not_in([s.id for s in cur.curriculum().sessions]))
    if not everything:
        r = r.where(Reflection.participant_id.in_(sorted(participant_ids or [-1])))
    if cohort_ids is not None:
        r = r.where(Reflection.cohort_id.in_(sorted(cohort_ids) or [-1]))
    r = r.cte("r")
    if db.engine.dialect.name == "postgresql":
        r = r.prefix_with("MATERIALIZED")
    return db.select(r.c.cid, r.c.pid, r.c.month, func.count(), func.coalesce(func.sum(r.c.gs), 0),
                     func.count(r.c.gs), func.coalesce(func.sum(r.c.gp), 0), func.count(r.c.gp)
                     ).group_by(r.c.cid, r.c.pid, r.c.month)


def anonymous_select(cohort_ids=None):
    """The same per cohort and month for the anonymous ratings kept from deleted accounts."""
    m = month_of(AnonymousRating.submitted_on)
    q = db.select(AnonymousRating.cohort_id, literal(None).label("pid"), m, func.count(),
                  func.coalesce(func.sum(AnonymousRating.gain_self), 0), func.count(AnonymousRating.gain_self),
                  func.coalesce(func.sum(AnonymousRating.gain_partner), 0), func.count(AnonymousRating.gain_partner))
    if cohort_ids is not None:
        q = q.where(AnonymousRating.cohort_id.in_(sorted(cohort_ids) or [-1]))
    return q.group_by(AnonymousRating.cohort_id, m)


_COLUMNS = ["cohort_id", "participant_id", "month", "reflections", "gs_sum", "gs_n", "gp_sum", "gp_n"]


def _write(query) -> None:
    db.session.execute(insert(InsightTally).from_select(_COLUMNS, query))


def refresh(participant_ids=(), anonymous_cohort_ids=()) -> None:
    """Recompute the tally rows of these participants and the anonymous rows of these cohorts."""
    ids = sorted(set(participant_ids))
    for k in range(0, len(ids), 1000):
        chunk = ids[k:k + 1000]
        db.session.execute(delete(InsightTally).where(InsightTally.participant_id.in_(chunk)))
        _write(tally_select(chunk))
    cids = sorted(set(anonymous_cohort_ids))
    if cids:
        db.session.execute(delete(InsightTally).where(InsightTally.participant_id.is_(None),
                                                      InsightTally.cohort_id.in_(cids)))
        _write(anonymous_select(cids))


def rebuild() -> None:
    """The whole tally from scratch (migration backfill, bench seed, a bulk statement nobody noted)."""
    db.session.execute(delete(InsightTally))
    _write(tally_select(everything=True))
    _write(anonymous_select())


def bump(cohort_ids=(), deployment_ids=(), everything: bool = False) -> None:
    """A new insights version (a random number: see the model) for the deployments of these cohorts (or these
    deployments, or all)."""
    stmt = update(Deployment).values(insights_version=secrets.randbits(62))
    if not everything:
        cohort_ids, deployment_ids = sorted(set(cohort_ids)), sorted(set(deployment_ids))
        if not cohort_ids and not deployment_ids:
            return
        of_cohorts = select(Course.deployment_id).join(Cohort, Cohort.course_id == Course.id).where(
            Cohort.id.in_(cohort_ids or [-1]))
        stmt = stmt.where(Deployment.id.in_(of_cohorts) | Deployment.id.in_(deployment_ids or [-1]))
    db.session.execute(stmt.execution_options(synchronize_session=False))


def version(deployment_id: int) -> int:
    return db.session.execute(select(Deployment.insights_version).where(Deployment.id == deployment_id)).scalar_one()


# --- what a transaction changed ------------------------------------------------------------------------------

def _notes(session) -> dict:
    return session.info.setdefault(_KEY, {"participants": set(), "anonymous": set(), "cohorts": set(),
                                          "teams": set(), "deployments": set(), "all_versions": False,
                                          "all_tally": False})


def note_participants(participant_ids, session=None) -> None:
    """The caller changes these participants' reflections with a bulk statement: recompute them at commit."""
    _notes(session or db.session())["participants"].update(participant_ids)


def note_cohorts(cohort_ids, session=None) -> None:
    """The caller changes these cohorts' anonymous ratings with a bulk statement."""
    _notes(session or db.session())["anonymous"].update(cohort_ids)


def pending(session=None) -> bool:
    """Did this transaction change anything insights read (flushed or not yet)? Then no kept page is valid."""
    session = session or db.session()
    notes = session.info.get(_KEY)
    if notes and any(notes.values()):
        return True
    return any(isinstance(o, _TRACKED) for o in (*session.new, *session.deleted)) or \
        any(isinstance(o, _TRACKED) and session.is_modified(o) for o in session.dirty)


def _after_flush(session, _context) -> None:
    notes = None
    changed = [(o, False) for o in session.new] + [(o, True) for o in session.deleted] + [
        (o, False) for o in session.dirty if isinstance(o, _TRACKED) and session.is_modified(o)]
    for obj, deleted in changed:
        if not isinstance(obj, _TRACKED):
            continue
        notes = notes or _notes(session)
        state = inspect(obj)
        if isinstance(obj, Reflection):
            notes["participants"].update(_values(state, "participant_id", deleted))
        elif isinstance(obj, AnonymousRating):
            notes["anonymous"].update(_values(state, "cohort_id", deleted))
        if isinstance(obj, Cohort):
            notes["cohorts"].add(obj.id)
            notes["deployments"].update(_deployment_of_course(session, obj.course_id))
        elif isinstance(obj, Course):
            notes["deployments"].update(_values(state, "deployment_id", deleted))
        elif isinstance(obj, TeamMember):
            notes["teams"].update(_values(state, "team_id", deleted))
        else:
            notes["cohorts"].update(_values(state, "cohort_id", deleted))


def _values(state, attribute: str, deleted: bool) -> set:
    """The attribute's value, and the one it had before this flush when it changed (a row moved)."""
    history = state.attrs[attribute].history
    values = set(history.unchanged) | set(history.added) | set(history.deleted)
    if not values and attribute in state.dict:
        values = {state.dict[attribute]}
    return {v for v in values if v is not None}


def _deployment_of_course(session, course_id) -> set:
    if course_id is None:
        return set()
    return {d for d in session.execute(select(Course.deployment_id).where(Course.id == course_id)).scalars()}


def _bulk(state) -> None:
    """A bulk INSERT/UPDATE/DELETE through the session: it cannot say which rows it touched."""
    if not (state.is_insert or state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if not issubclass(model, _TRACKED):
        return
    notes = _notes(state.session)
    notes["all_versions"] = True
    if model in (Reflection, AnonymousRating) and state.execution_options.get("insight_tally") != NOTED:
        notes["all_tally"] = True


def _before_commit(session) -> None:
    session.flush()
    notes = session.info.pop(_KEY, None)
    if not notes or not any(notes.values()):
        return
    try:
        if notes["all_tally"]:
            rebuild()
        elif notes["participants"] or notes["anonymous"]:
            refresh({p for p in notes["participants"] if p is not None}, notes["anonymous"])
        if notes["all_versions"]:
            bump(everything=True)
        else:
            teams = sorted(notes["teams"])
            cohorts = set(notes["cohorts"])
            if teams:
                found = dict(session.execute(select(Team.id, Team.cohort_id).where(Team.id.in_(teams))).all())
                cohorts.update(found.values())
                if len(found) < len(teams):  # a team deleted with its members: its cohort is unknown now
                    bump(everything=True)
            bump(cohort_ids=cohorts, deployment_ids=notes["deployments"])
        session.flush()
    finally:
        session.info.pop(_KEY, None)  # what the rewrite itself flushed is not a change to note


def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (a commit has applied its notes)
        session.info.pop(_KEY, None)


def init_app(app) -> None:
    for name, fn in (("after_flush", _after_flush), ("do_orm_execute", _bulk), ("before_commit", _before_commit),
                     ("after_transaction_end", _forget)):
        if not event.contains(db.session, name, fn):
            event.listen(db.session, name, fn)
