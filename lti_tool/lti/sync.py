"""Turn a validated launch into rows: user, course, membership, resource link, cohort."""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import UniqueConstraint, and_, bindparam, literal, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..extensions import db
from ..upserts import conflict_updates, insert_for, upsert_statement
from ..models import (Cohort, Course, Deployment, LtiUser, Membership, Participant, Platform, ResourceLink, UsedNonce,
                      utcnow)
from . import claims
from .launch import LaunchRefused
from .roles import LEARNER, map_roles
from .storage import ASYNC_COMMIT
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
    # The cohorts of the course the person takes part in, when the launch knows them without asking the
    # database (a person's first launch: only the one it enrolled them in, if any); None when it does not.
    learner_cohorts: list[Cohort] | None = field(default=None, compare=False, repr=False)


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


PLACEHOLDER_PREFIX = "roster:"  # people imported from a CSV roster before their first launch

# The user with an LMS id, or the CSV-imported placeholder with their email (bound parameters). Without an
# email the placeholder is NULL, which matches no row.
_USER_OR_PLACEHOLDER_MATCHES = and_(LtiUser.platform_id == bindparam("platform_id"),
                                    or_(LtiUser.sub == bindparam("sub"), LtiUser.sub == bindparam("placeholder")))


def _launch_rows(first):
    """SELECT the launching user (or a CSV-imported placeholder with their email), the course and its
    resource link, each outer-joined to the one row of ``first``: (user, course, link) with None for
    what does not exist yet, one row per user found (at most two). Values are bound parameters."""
    users, courses, links = LtiUser.__table__, Course.__table__, ResourceLink.__table__
    joined = (first
              .outerjoin(users, _USER_OR_PLACEHOLDER_MATCHES)
              .outerjoin(courses, and_(courses.c.deployment_id == bindparam("deployment_id"),
                                       courses.c.context_id == bindparam("context_id")))
              .outerjoin(links, and_(links.c.course_id == courses.c.id,
                                     links.c.resource_link_id == bindparam("resource_link_id"))))
    return select(LtiUser, Course, ResourceLink).select_from(joined)


_INSERT_NONCE = UsedNonce.__table__.insert().values(
    issuer=bindparam("issuer"), nonce=bindparam("nonce"), expires_at=bindparam("expires_at"))
# Built once (building costs about as much CPU as running). SQLite: the used nonce is a statement of its
# own, then the rows are looked up; PostgreSQL does both, and more, in one statement (_launch_statement).
_LAUNCH_ROWS = _launch_rows(select(literal(1).label("one")).cte("launch"))


_USED_NONCE_KEY = next(c.name for c in UsedNonce.__table__.constraints if isinstance(c, UniqueConstraint))


def _is_replay(error: IntegrityError) -> bool:
    """The used nonce's unique key refused the row (PostgreSQL names the constraint; SQLite names the
    table's columns in its message). Any other integrity error is a fault, not a replay."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint is not None:
        return constraint == _USED_NONCE_KEY
    return "used_nonce." in str(error.orig)


@contextmanager
def _refusing_replays():
    """Around the launch's first statement: the used nonce's unique index refuses a replay (at once or, when
    the first launch is still running, once it commits), and the launch is refused as a replay."""
    try:
        yield
    except IntegrityError as e:
        if not _is_replay(e):
            raise
        db.session.rollback()
        raise LaunchRefused("replay", "This launch was already used (replayed nonce).") from e


def _record_nonce_and_find_rows(used_nonce: dict | None, keys: dict) -> list:
    """SQLite: the used nonce written, then the rows of ``_launch_rows`` read."""
    with _refusing_replays():
        if used_nonce is not None:
            db.session.execute(_INSERT_NONCE, used_nonce)
        return db.session.execute(_LAUNCH_ROWS, keys).all()


_LAUNCH_STATEMENTS: dict[tuple, object] = {}
# The user's row and whether the INSERT inserted it: PostgreSQL leaves xmax 0 on a row it has just inserted,
# and sets it on the row that ON CONFLICT DO UPDATE locked and updated.
_USER_AND_INSERTED = (LtiUser.__table__, (literal_column("xmax") == literal_column("0")).label("inserted"))
_LAUNCHED_USER_COLUMNS = (*LtiUser.__table__.c.keys(), "inserted")


def _launch_statement(names: tuple, with_nonce: bool):
    """PostgreSQL: a launch's writes and reads in one statement (one round trip), built once per shape.

    Its data-modifying WITH inserts the used nonce (whose RETURNING also turns synchronous_commit off for
    the launch's transaction: docs/security.md, "Trade-offs made for launch speed"); upserts the launching
    user by LMS id (``names``: the columns the launch writes; a value given as None keeps the stored one),
    RETURNING the row and whether it was inserted; and upserts their membership of the course when the
    course exists. The SELECT reads the course, its resource link and the person's roster placeholder.

    The user is not written when their roster placeholder exists and a row with their LMS id does not: the
    launch adopts the placeholder instead (``_user_or_adopted``). The statement runs as a whole or not at
    all, so a replay (the nonce's unique index) writes nothing else either."""
    key = (names, with_nonce)
    if key not in _LAUNCH_STATEMENTS:
        users, courses, links, memberships = (LtiUser.__table__, Course.__table__, ResourceLink.__table__,
                                              Membership.__table__)
        first = (_INSERT_NONCE.returning(ASYNC_COMMIT.label("async_commit")).cte("used") if with_nonce
                 else select(literal(1).label("one")).cte("launch"))

        def user_with(sub_parameter: str):  # the platform's user whose LMS id is that bound parameter
            return and_(users.c.platform_id == bindparam("platform_id"), users.c.sub == bindparam(sub_parameter))

        def row_exists(sub_parameter: str):
            return select(users.c.id).where(user_with(sub_parameter)).exists()

        # created_at is given: a column default does not reach an INSERT inside a WITH
        columns = ("platform_id", "sub", "created_at", *names)
        user_values = (select(*(bindparam(c, type_=users.c[c].type) for c in columns))
                       .where(~(row_exists("placeholder") & ~row_exists("sub"))))
        user_insert = pg_insert(users).from_select(list(columns), user_values)
        user_row = user_insert.on_conflict_do_update(
            index_elements=["platform_id", "sub"], set_=conflict_updates(user_insert, users, names, keep_existing=True),
        ).returning(*_USER_AND_INSERTED).cte("launched_user")

        this_course = and_(courses.c.deployment_id == bindparam("deployment_id"),
                           courses.c.context_id == bindparam("context_id"))
        roles = ("lti_roles", "tool_roles")
        membership_values = (select(user_row.c.id, courses.c.id,
                                    *(bindparam(c, type_=memberships.c[c].type) for c in roles))
                             .select_from(user_row.join(courses, this_course)))
        membership_insert = pg_insert(memberships).from_select(["user_id", "course_id", *roles], membership_values)
        membership_row = membership_insert.on_conflict_do_update(
            index_elements=["course_id", "user_id"], set_=conflict_updates(membership_insert, memberships, roles),
        ).cte("membership_row")

        joined = (first
                  .outerjoin(users, user_with("placeholder"))
                  .outerjoin(courses, this_course)
                  .outerjoin(links, and_(links.c.course_id == courses.c.id,
                                         links.c.resource_link_id == bindparam("resource_link_id")))
                  .outerjoin(user_row, true()))
        _LAUNCH_STATEMENTS[key] = (select(LtiUser, Course, ResourceLink, *user_row.c).select_from(joined)
                                   .add_cte(membership_row))
    return _LAUNCH_STATEMENTS[key]


def _write_launch(used_nonce: dict | None, names: tuple, values: dict) -> tuple:
    """PostgreSQL: run the launch's statement (``_launch_statement``; ``names``: the user's columns in
    ``values``). Returns the roster placeholder found (``{sub: row}``), the course and its resource link
    (None while new), and the launched user (None when the placeholder is to be adopted instead)."""
    with _refusing_replays():
        row = db.session.execute(_launch_statement(names, used_nonce is not None),
                                 {**values, **(used_nonce or {})}).one()
    placeholder, course, link = row[:3]
    written = dict(zip(_LAUNCHED_USER_COLUMNS, row[3:]))
    launched = None
    if written["id"] is not None:
        created = written.pop("inserted")
        launched = _LaunchedUser(_as_loaded(LtiUser, written), membership_written=course is not None,
                                 created=created)
    return ({placeholder.sub: placeholder} if placeholder is not None else {}), course, link, launched


_LOOKUPS: dict[tuple, object] = {}


def _lookup(model, names: tuple):
    """SELECT model WHERE each of ``names`` equals its bound parameter, built once per shape."""
    if (model, names) not in _LOOKUPS:
        _LOOKUPS[(model, names)] = db.select(model).filter_by(**{name: bindparam(name) for name in names})
    return _LOOKUPS[(model, names)]


_USER_OR_PLACEHOLDER = db.select(LtiUser).where(_USER_OR_PLACEHOLDER_MATCHES)  # built once


def placeholder_sub(email: str | None) -> str | None:
    """The LMS id a CSV-imported person holds until their first launch adopts the row (None: no email)."""
    return PLACEHOLDER_PREFIX + email.lower() if email else None


def _find_user(platform_id: int, sub: str, email: str | None) -> LtiUser | None:
    """The user for an LMS id, or a CSV-imported placeholder with the same email, adopted (one query for both)."""
    placeholder = placeholder_sub(email)
    found = {u.sub: u for u in db.session.execute(_USER_OR_PLACEHOLDER, {
        "platform_id": platform_id, "sub": sub, "placeholder": placeholder}).scalars()}
    return _user_or_adopted(found, sub, placeholder)


def _user_or_adopted(found: dict, sub: str, placeholder: str | None) -> LtiUser | None:
    """Of the users found by LMS id or placeholder (``{sub: user}``), the one with the LMS id, or else the
    placeholder, which takes the LMS id."""
    user = found.get(sub)
    if user is None and placeholder in found:
        user = found[placeholder]
        user.sub = sub
        db.session.flush()  # a second launch adopting it at the same time waits here, then finds it taken
    return user


def user_for(platform_id: int, sub: str, email: str | None) -> LtiUser:
    """The user for an LMS id, adopting a CSV-imported placeholder with the same email."""
    return _find_user(platform_id, sub, email) or _get_or_create(LtiUser, platform_id=platform_id, sub=sub)


@dataclass(frozen=True)
class _LaunchedUser:
    row: LtiUser
    membership_written: bool  # the membership in the course was written with the user (one statement)
    created: bool  # this launch inserted the row: the person is new (only known on PostgreSQL, else False)


def _launch_user(platform_id: int, sub: str, user: LtiUser | None, seen: dict) -> _LaunchedUser:
    """The launching user (``user``, as the launch's lookup found them), with what the launch says about
    them (a value it leaves out is kept), where the launch's first statement did not write them (SQLite,
    or a roster placeholder adopted).

    For a known user the UPDATE of what changed, at the launch's next flush; for a first launch an INSERT …
    ON CONFLICT … RETURNING the row, which the session then holds like any row it loaded (``_as_loaded``).
    """
    if user is None:
        table = LtiUser.__table__
        statement = upsert_statement(db.session.get_bind().dialect.name, table, ("platform_id", "sub"),
                                     tuple(seen), keep_existing=True, returning=table)
        row = db.session.execute(statement, {"platform_id": platform_id, "sub": sub, **seen}).one()._mapping
        return _LaunchedUser(_as_loaded(LtiUser, row), membership_written=False, created=False)
    _assign(user, **{name: value for name, value in seen.items() if value is not None})
    return _LaunchedUser(user, membership_written=False, created=False)


def _as_loaded(model, row):
    """The ORM object of a row (a mapping of its columns) that a Core statement returned, in the session as
    if a query had loaded it.

    Core and this, rather than an ORM-enabled INSERT … RETURNING the class: that path costs about 0.25 ms
    more per first launch. The session cannot hold the row yet (the caller's lookup did not find it); if
    it did, that object is expired and returned, so it reloads what the statement wrote."""
    present = db.session.identity_map.get(identity_key(model, row["id"]))
    if present is not None:
        db.session.expire(present)
        return present
    obj = model(**row)
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


def sync_launch(data: dict, client_id: str, *, used_nonce: dict | None) -> SyncedLaunch:
    """Upsert everything the launch tells us, in the launch's transaction, which the caller commits (the
    launch does once its landing page has read what it needs).

    ``used_nonce``: the launch's nonce row (``ToolMessageLaunch.used_nonce``), written first; a replay is
    refused (``LaunchRefused``). None only where the caller has no id_token to protect."""
    deployment: Deployment | None = find_deployment(data["iss"], client_id, data[claims.DEPLOYMENT_ID])
    assert deployment is not None, "validated launches always have a registered deployment"

    sub, email = str(data["sub"]), data.get("email")
    placeholder = placeholder_sub(email)
    context = data.get(claims.CONTEXT) or {}
    context_id = str(context["id"]) if context.get("id") else None
    link_claim = data.get(claims.RESOURCE_LINK) or {}
    link_id = str(link_claim["id"]) if context_id and link_claim.get("id") else None
    lti_roles = list(data.get(claims.ROLES) or [])
    roles = map_roles(lti_roles)
    locale = (data.get(claims.LAUNCH_PRESENTATION) or {}).get("locale")
    seen = {"lms_name": _full_name(data), "lms_email": email, "last_launch_at": utcnow(),
            "locale": locale if isinstance(locale, str) and locale else None}  # mail is written in the locale
    keys = {"platform_id": deployment.platform_id, "sub": sub, "placeholder": placeholder,
            "deployment_id": deployment.id, "context_id": context_id, "resource_link_id": link_id}
    if db.session.get_bind().dialect.name == "postgresql":
        found, course, link, launched = _write_launch(used_nonce, tuple(seen), {
            **keys, **seen, "created_at": seen["last_launch_at"], "lti_roles": lti_roles, "tool_roles": roles})
    else:
        rows = _record_nonce_and_find_rows(used_nonce, keys)
        _, course, link = rows[0]  # None while the course (link) is new, and when the launch names none
        found, launched = {u.sub: u for u, _, _ in rows if u is not None}, None

    if context_id and course is None:
        course = _create(Course, {"deployment_id": deployment.id, "context_id": context_id})
    if launched is None:
        launched = _launch_user(deployment.platform_id, sub, _user_or_adopted(found, sub, placeholder), seen)
    user, user_id = launched.row, launched.row.id

    cohort_id, enrolled_in = None, None
    if context_id:
        nrps = data.get(claims.NRPS) or {}
        ags = data.get(claims.AGS) or {}
        _assign(course, title=context.get("title") or course.title or context.get("label") or "",
                label=context.get("label") or course.label or "",
                nrps_url=nrps.get("context_memberships_url") or course.nrps_url,
                **({"ags_lineitems_url": ags["lineitems"], "ags_scopes": list(ags.get("scope") or [])}
                   if ags.get("lineitems") else {}))
        if not launched.membership_written:
            db.session.flush()  # the user's and the course's changes go first
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
                enrolled_in = cohort_id

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
        learner_cohorts=_cohorts_of_new_person(enrolled_in) if launched.created else None,
    )


def _cohorts_of_new_person(enrolled_in: int | None) -> list[Cohort] | None:
    """The cohorts a person this launch created takes part in: none, or the one it enrolled them in when
    the session holds that row (None when it does not: the landing page reads them then)."""
    if enrolled_in is None:
        return []
    cohort = db.session.identity_map.get(identity_key(Cohort, enrolled_in))
    return [cohort] if cohort is not None else None
