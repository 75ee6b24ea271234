"""The audit log: who did what with people's data (exports, deletions, removals, publishing, ...).

``record`` is called right where the action happens. It takes the actor from the launch on
``flask.g`` when there is one, and works without a request too (the command line, background jobs,
platform registration), where the actor is ``None`` with the role given (``cli`` by default).

Nothing personal goes in: ``details`` may hold numbers, booleans, ids and short lower-case codes
only, so a name, an email address or a reflection can never be written into the log by mistake. A
learner deleting their own data is logged without their user id ("a learner deleted their data").
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from ..extensions import db
from ..lti.roles import FACILITATOR, LEARNER, LND
from ..models import AuditEvent, Cohort, Course, Deployment, LtiUser

# The actions the log knows, each with the words an L&D administrator reads.
ACTIONS = {
    "export": _l("Exported people's data"),
    "deletion": _l("A learner deleted their data"),
    "removal": _l("Removed a participant from a cohort"),
    "publish": _l("Published teams"),
    "invite_updates": _l("Sent calendar updates after a change"),
    "hand_team": _l("Formed a team by hand for people waiting for a partner"),
    "registration": _l("Registered a platform"),
    "roster_import": _l("Imported a roster"),
    "purge": _l("Removed the personal data of an ended cohort"),
    "audit_export": _l("Downloaded the audit log"),
}
ROLE_LABELS = {FACILITATOR: _l("Facilitator"), LND: _l("L&D administrator"), LEARNER: _l("Learner"),
               "cli": _l("Command line"), "platform": _l("LMS platform")}
CODE = re.compile(r"^[a-z0-9_.:-]{1,40}$")


class AuditDetailError(ValueError):
    """A detail that could carry personal data (free text, a name, an email address)."""


def _clean(details: dict[str, Any] | None) -> dict[str, Any]:
    out = {}
    for key, value in (details or {}).items():
        if not CODE.match(str(key)):
            raise AuditDetailError(f"audit detail key {key!r} is not a short code")
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None or isinstance(item, (bool, int, float)):
                continue
            if not (isinstance(item, str) and CODE.match(item)):
                raise AuditDetailError(f"audit detail {key!r} holds text; only numbers, ids and codes may be logged")
        out[str(key)] = list(value) if isinstance(value, tuple) else value
    return out


def _launch():
    return g.get("lti") if has_request_context() else None


def _role_of(launch) -> str:
    for role in (LND, FACILITATOR, LEARNER):  # the most powerful role the person acted with
        if launch.has(role):
            return role
    return "unknown"


def record(action: str, *, cohort: Cohort | None = None, course: Course | None = None,
           deployment: Deployment | None = None, details: dict[str, Any] | None = None,
           actor: LtiUser | None = None, actor_role: str | None = None, anonymous: bool = False,
           commit: bool = True) -> AuditEvent:
    """Log one action. Scope comes from the cohort, else the course, else the deployment, else the launch.

    ``anonymous`` leaves the actor's user id out (a learner deleting their own data).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    launch = _launch()
    if actor is None and launch is not None and not anonymous:
        actor = launch.user
    role = actor_role or (_role_of(launch) if launch is not None else "cli")
    if course is None and cohort is not None:
        course = db.session.get(Course, cohort.course_id)
    if course is None and deployment is None and launch is not None:
        course = launch.course
    if deployment is None and course is not None:
        deployment = db.session.get(Deployment, course.deployment_id)
    event = AuditEvent(action=action, actor_role=role, actor_user_id=None if anonymous or actor is None else actor.id,
                       deployment_id=deployment.id if deployment else None,
                       platform_id=deployment.platform_id if deployment else None,
                       course_id=course.id if course else None, cohort_id=cohort.id if cohort else None,
                       details=_clean(details))
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


@dataclass
class Entry:
    """One line of the log as an administrator reads it."""

    at: datetime
    action: str
    what: str
    role: str
    who: str
    course: str
    cohort: str
    details: str


def _details_text(details: dict[str, Any]) -> str:
    return "; ".join(f"{k.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in sorted((details or {}).items()))


def _query(deployment_id: int, action: str | None, up_to_id: int | None = None):
    query = db.select(*AuditEvent.__table__.c).where(AuditEvent.deployment_id == deployment_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if up_to_id is not None:
        query = query.where(AuditEvent.id <= up_to_id)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def entries(deployment_id: int, *, action: str | None = None, limit: int | None = None) -> list[Entry]:
    """The deployment's log, newest first, with people, courses and cohorts named as they are now."""
    query = _query(deployment_id, action)
    if limit:
        query = query.limit(limit)
    return _named(db.session.execute(query).all())


def extent(deployment_id: int, *, action: str | None = None) -> tuple[int, int | None]:
    """How many entries the log holds now, and the newest id (a download stops there)."""
    query = db.select(func.count(AuditEvent.id), func.max(AuditEvent.id)).where(
        AuditEvent.deployment_id == deployment_id)
    if action:
        query = query.where(AuditEvent.action == action)
    count, newest = db.session.execute(query).one()
    return count, newest


def iter_entries(deployment_id: int, *, action: str | None = None, up_to_id: int | None = None,
                 batch: int = 2000) -> Iterator[Entry]:
    """Like ``entries`` but read in batches from a server-side cursor, for a download of any size."""
    if up_to_id is None:
        return
    result = db.session.execute(_query(deployment_id, action, up_to_id).execution_options(yield_per=batch))
    for rows in result.partitions():
        yield from _named(rows)


def _named(rows) -> list[Entry]:
    users = _by_id(LtiUser, {r.actor_user_id for r in rows})
    courses = _by_id(Course, {r.course_id for r in rows})
    cohorts = _by_id(Cohort, {r.cohort_id for r in rows})
    out = []
    for r in rows:
        user = users.get(r.actor_user_id)
        if r.actor_user_id is None:
            who = "not recorded" if r.action == "deletion" else "-"
        elif user is None:
            who = f"user {r.actor_user_id} (no longer in the tool)"
        else:
            who = f"{user.name or 'unnamed'} <{user.contact_email or 'no email'}>"
        course = courses.get(r.course_id)
        cohort = cohorts.get(r.cohort_id)
        out.append(Entry(
            at=r.at, action=r.action, what=ACTIONS.get(r.action, r.action), role=ROLE_LABELS.get(r.actor_role,
                                                                                             r.actor_role),
            who=who, course=(course.title or course.label or course.context_id) if course else
            (f"course {r.course_id}" if r.course_id else "-"),
            cohort=cohort.name if cohort else (f"cohort {r.cohort_id}" if r.cohort_id else "-"),
            details=_details_text(r.details)))
    return out


def _by_id(model, ids) -> dict:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {row.id: row for row in db.session.execute(db.select(model).where(model.id.in_(ids))).scalars()}


CSV_COLUMNS = [_l("When (UTC)"), _l("Action"), _l("What happened"), _l("Role"), _l("Who"), _l("Course"), _l("Cohort"),
               _l("Details")]


def csv_chunks(rows: Iterable[Entry], batch: int = 1000) -> Iterator[str]:
    """The log as CSV text in pieces (formula-safe cells, like every other download of the tool)."""
    from ..insights.exports import safe_cell

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n, e in enumerate(rows, 1):
        writer.writerow([safe_cell(v) for v in (e.at.isoformat(timespec="seconds"), e.action, e.what, e.role, e.who,
                                                e.course, e.cohort, e.details)])
        if n % batch == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def as_csv(rows: list[Entry]) -> str:
    """The whole log as one CSV text (the command line's export)."""
    return "".join(csv_chunks(rows))
