"""Turn a validated launch into rows: user, course, membership, resource link, cohort."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import bindparam, or_
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..extensions import db
from ..upserts import insert_for, upsert_statement
from ..models import Cohort, Course, Deployment, LtiUser, Membership, Participant, Platform, ResourceLink, utcnow
from . import claims
from .roles import LEARNER, map_roles
from .tool_config import find_deployment, find_platform


@dataclass(frozen=True)
class SyncedLaunch:
    user_id: int
    course_id: int | None
    roles: list[str]
    return_url: str | None
    locale: str | None
    cohort_id: int | None
    # The rows themselves, in the launch's session: the landing page's launch context is built from them
    # instead of being read back (auth.launch_context_of).
    user: LtiUser | None = field(default=None, compare=False, repr=False)
    course: Course | None = field(default=None, compare=False, repr=False)
    platform: Platform | None = field(default=None, compare=False, repr=False)


def _full_name(data: dict) -> str | None:
    name = (data.get("name") or "").strip()
    if not name:
        name = " ".join(p for p in (data.get("given_name"), data.get("family_name")) if p).strip()
    return name or None


def _insert_ignoring_duplicates(model, values: dict) -> None:
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike).

    When another transaction inserts the same key at the same moment, PostgreSQL waits for it to
    finish and then skips our row instead of failing the whole launch with a unique violation
    (SQLite serialises writers, so there the second one simply finds the row).
    """
    insert = insert_for(db.session.get_bind().dialect.name)
    db.session.execute(insert(model.__table__).values(**values).on_conflict_do_nothing())


def _get_or_create(model, defaults: dict | None = None, **keys):
    """The row with these unique ``keys``, created if missing; safe when two launches create it at once."""
    row = db.session.execute(_lookup(model, tuple(keys)), keys).scalars().first()
    return row if row is not None else _create(model, keys, defaults)


def _create(model, keys: dict, defaults: dict | None = None):
    """The row with these unique ``keys``, which a lookup just found missing: inserted unless another
    transaction did so meanwhile (it waits for that one), then read."""
    db.session.flush()  # rows this one points at (a new user, course) go first
    _insert_ignoring_duplicates(model, {**keys, **(defaults or {})})
    return db.session.execute(_lookup(model, tuple(keys)), keys).scalars().one()


# A launch's course and its resource link in one round trip: (course, link), (course, None) while the
# link is new, no row while the course is. Built once; the values are bound parameters.
_COURSE_AND_LINK = db.select(Course, ResourceLink).outerjoin(
    ResourceLink, (ResourceLink.course_id == Course.id)
    & (ResourceLink.resource_link_id == bindparam("resource_link_id"))
).where(Course.deployment_id == bindparam("deployment_id"), Course.context_id == bindparam("context_id"))


def _course_and_link(deployment_id: int, context_id: str, resource_link_id: str | None):
    """The course (created if missing) and, when the launch names one, its resource link if it exists yet.

    One query finds both in the usual case; a missing row is then created as ``_get_or_create`` does,
    so two first launches at once still end with one row each."""
    keys = {"deployment_id": deployment_id, "context_id": context_id}
    if resource_link_id is None:
        return _get_or_create(Course, **keys), None
    found = db.session.execute(_COURSE_AND_LINK, {**keys, "resource_link_id": resource_link_id}).first()
    if found is None:
        return _create(Course, keys), None
    return found[0], found[1]


_LOOKUPS: dict[tuple, object] = {}


def _lookup(model, names: tuple):
    """SELECT model WHERE each of ``names`` equals its bound parameter, built once per shape."""
    if (model, names) not in _LOOKUPS:
        _LOOKUPS[(model, names)] = db.select(model).filter_by(**{name: bindparam(name) for name in names})
    return _LOOKUPS[(model, names)]


PLACEHOLDER_PREFIX = "roster:"  # people imported from a CSV roster before their first launch


# Built once (a launch runs it; building costs about as much CPU as running). Without an email the
# placeholder is NULL, which matches no row.
_USER_OR_PLACEHOLDER = db.select(LtiUser).where(
    LtiUser.platform_id == bindparam("platform_id"),
    or_(LtiUser.sub == bindparam("sub"), LtiUser.sub == bindparam("placeholder")))


def _find_user(platform_id: int, sub: str, email: str | None) -> LtiUser | None:
    """The user for an LMS id, or a CSV-imported placeholder with the same email, adopted (one query for both)."""
    placeholder = PLACEHOLDER_PREFIX + email.lower() if email else None
    found = {u.sub: u for u in db.session.execute(_USER_OR_PLACEHOLDER, {
        "platform_id": platform_id, "sub": sub, "placeholder": placeholder}).scalars()}
    user = found.get(sub)
    if user is None and placeholder in found:
        user = found[placeholder]
        user.sub = sub
        db.session.flush()  # a second launch adopting it at the same time waits here, then finds it taken
    return user


def user_for(platform_id: int, sub: str, email: str | None) -> LtiUser:
    """The user for an LMS id, adopting a CSV-imported placeholder with the same email."""
    return _find_user(platform_id, sub, email) or _get_or_create(LtiUser, platform_id=platform_id, sub=sub)


def _launch_user(platform_id: int, sub: str, email: str | None, seen: dict) -> LtiUser:
    """The launching user, with what the launch says about them (a value it leaves out is kept).

    Two round trips whether the user is new or known: the query for the user (or a placeholder to
    adopt), then one write: an UPDATE, or for a first launch an INSERT … ON CONFLICT … RETURNING the
    row, which the session then holds like any row it loaded (``_as_loaded``).
    """
    user = _find_user(platform_id, sub, email)
    if user is None:
        table = LtiUser.__table__
        statement = upsert_statement(db.session.get_bind().dialect.name, table, ("platform_id", "sub"),
                                     tuple(seen), keep_existing=True, returning=table)
        return _as_loaded(LtiUser, db.session.execute(statement, {"platform_id": platform_id, "sub": sub, **seen}).one())
    _assign(user, **{name: value for name, value in seen.items() if value is not None})
    return user


def _as_loaded(model, row):
    """The ORM object of a row that a Core statement returned, in the session as if a query had loaded it.

    Core and this, rather than an ORM-enabled INSERT … RETURNING the class: that path costs about 0.25 ms
    more per first launch. The session cannot hold the row yet (the caller's lookup did not find it); if
    it did, that object is expired and returned, so it reloads what the statement wrote."""
    present = db.session.identity_map.get(identity_key(model, row.id))
    if present is not None:
        db.session.expire(present)
        return present
    obj = model(**row._mapping)
    make_transient_to_detached(obj)  # its values count as loaded from the database, not as changes
    db.session.add(obj)
    return obj


def _assign(row, **values) -> None:
    """Set only the attributes whose value differs. Setting one to the value it has already marks the row
    modified, and every later flush of the launch then works through the unit of work for nothing."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def _upsert(model, keys: dict, values: dict, *, keep_existing: bool = False) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET values: one round trip, safe when two launches write the
    same row at once (PostgreSQL and SQLite alike). ``keep_existing``: a value that is None leaves the
    stored one as it is."""
    statement = upsert_statement(db.session.get_bind().dialect.name, model.__table__, tuple(keys), tuple(values),
                                 keep_existing=keep_existing, returning=False)
    db.session.execute(statement, {**keys, **values})


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:100] or "lab"


def sync_launch(data: dict, client_id: str) -> SyncedLaunch:
    """Upsert everything the launch tells us, in the launch's transaction, which the caller commits (the
    launch does once its landing page has read what it needs)."""
    deployment: Deployment | None = find_deployment(data["iss"], client_id, data[claims.DEPLOYMENT_ID])
    assert deployment is not None, "validated launches always have a registered deployment"

    locale = (data.get(claims.LAUNCH_PRESENTATION) or {}).get("locale")
    user = _launch_user(deployment.platform_id, str(data["sub"]), data.get("email"), {
        "lms_name": _full_name(data), "lms_email": data.get("email"), "last_launch_at": utcnow(),
        "locale": locale if isinstance(locale, str) and locale else None})  # mail is written in the locale
    user_id = user.id

    lti_roles = list(data.get(claims.ROLES) or [])
    roles = map_roles(lti_roles)
    course = None
    cohort_id = None
    context = data.get(claims.CONTEXT) or {}
    if context.get("id"):
        link_claim = data.get(claims.RESOURCE_LINK) or {}
        link_id = str(link_claim["id"]) if link_claim.get("id") else None
        course, link = _course_and_link(deployment.id, str(context["id"]), link_id)
        nrps = data.get(claims.NRPS) or {}
        ags = data.get(claims.AGS) or {}
        _assign(course, title=context.get("title") or course.title or context.get("label") or "",
                label=context.get("label") or course.label or "",
                nrps_url=nrps.get("context_memberships_url") or course.nrps_url,
                **({"ags_lineitems_url": ags["lineitems"], "ags_scopes": list(ags.get("scope") or [])}
                   if ags.get("lineitems") else {}))
        db.session.flush()  # a new user or course goes first
        _upsert(Membership, {"course_id": course.id, "user_id": user_id}, {"lti_roles": lti_roles, "tool_roles": roles})

        if link_id is not None:
            if link is None:
                link = _create(ResourceLink, {"course_id": course.id, "resource_link_id": link_id})
            _assign(link, title=link_claim.get("title") or link.title or "",
                    **({"ags_lineitem_url": ags["lineitem"]} if ags.get("lineitem") else {}))
            cohort_key = str((data.get(claims.CUSTOM) or {}).get("cohort") or "").strip()
            if cohort_key:
                cohort = _get_or_create(
                    Cohort, course_id=course.id, slug=slugify(cohort_key),
                    defaults={"name": cohort_key.replace("-", " ").strip().capitalize()},
                )
                _assign(link, cohort_id=cohort.id)
            cohort_id = link.cohort_id
            if cohort_id and LEARNER in roles:
                db.session.flush()
                _insert_ignoring_duplicates(Participant, {"cohort_id": cohort_id, "user_id": user_id})

    course_id = course.id if course else None
    db.session.flush()
    presentation = data.get(claims.LAUNCH_PRESENTATION) or {}
    return SyncedLaunch(
        user_id=user_id,
        course_id=course_id,
        roles=roles,
        return_url=presentation.get("return_url"),
        locale=presentation.get("locale"),
        cohort_id=cohort_id,
        user=user,
        course=course,
        platform=find_platform(data["iss"], client_id),
    )
