"""Turn a validated launch into rows: user, course, membership, resource link, cohort."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import Cohort, Course, Deployment, LtiUser, Membership, Participant, ResourceLink, utcnow
from . import claims
from .roles import LEARNER, map_roles
from .tool_config import find_deployment


@dataclass(frozen=True)
class SyncedLaunch:
    user_id: int
    course_id: int | None
    roles: list[str]
    return_url: str | None
    locale: str | None
    cohort_id: int | None


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
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(model.__table__).values(**values).on_conflict_do_nothing())


def _get_or_create(model, defaults: dict | None = None, **keys):
    """The row with these unique ``keys``, created if missing; safe when two launches create it at once."""
    query = db.select(model).filter_by(**keys)
    row = db.session.execute(query).scalars().first()
    if row is None:
        db.session.flush()  # rows this one points at (a new user, course) go first
        _insert_ignoring_duplicates(model, {**keys, **(defaults or {})})
        row = db.session.execute(query).scalars().one()
    return row


PLACEHOLDER_PREFIX = "roster:"  # people imported from a CSV roster before their first launch


def user_for(platform_id: int, sub: str, email: str | None) -> LtiUser:
    """The user for an LMS id, adopting a CSV-imported placeholder with the same email."""
    user = db.session.execute(
        db.select(LtiUser).where(LtiUser.platform_id == platform_id, LtiUser.sub == sub)).scalars().first()
    if user is None and email:
        user = db.session.execute(db.select(LtiUser).where(
            LtiUser.platform_id == platform_id, LtiUser.sub == PLACEHOLDER_PREFIX + email.lower())).scalars().first()
        if user is not None:
            user.sub = sub
            db.session.flush()  # a second launch adopting it at the same time waits here, then finds it taken
    if user is None:
        user = _get_or_create(LtiUser, platform_id=platform_id, sub=sub)
    return user


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:100] or "lab"


def sync_launch(data: dict, client_id: str) -> SyncedLaunch:
    """Upsert everything the launch tells us, in one transaction."""
    deployment: Deployment | None = find_deployment(data["iss"], client_id, data[claims.DEPLOYMENT_ID])
    assert deployment is not None, "validated launches always have a registered deployment"

    user = user_for(deployment.platform_id, str(data["sub"]), data.get("email"))
    user.lms_name = _full_name(data) or user.lms_name
    user.lms_email = data.get("email") or user.lms_email
    user.last_launch_at = utcnow()
    locale = (data.get(claims.LAUNCH_PRESENTATION) or {}).get("locale")
    if isinstance(locale, str) and locale:
        user.locale = locale  # mail to this person is written in it

    lti_roles = list(data.get(claims.ROLES) or [])
    roles = map_roles(lti_roles)
    course = None
    cohort_id = None
    context = data.get(claims.CONTEXT) or {}
    if context.get("id"):
        course = _get_or_create(Course, deployment_id=deployment.id, context_id=str(context["id"]))
        course.title = context.get("title") or course.title or context.get("label") or ""
        course.label = context.get("label") or course.label or ""
        nrps = data.get(claims.NRPS) or {}
        course.nrps_url = nrps.get("context_memberships_url") or course.nrps_url
        ags = data.get(claims.AGS) or {}
        if ags.get("lineitems"):
            course.ags_lineitems_url = ags["lineitems"]
            course.ags_scopes = list(ags.get("scope") or [])
        membership = _get_or_create(Membership, course_id=course.id, user_id=user.id)
        membership.lti_roles = lti_roles
        membership.tool_roles = roles

        link_claim = data.get(claims.RESOURCE_LINK) or {}
        if link_claim.get("id"):
            link = _get_or_create(ResourceLink, course_id=course.id, resource_link_id=str(link_claim["id"]))
            link.title = link_claim.get("title") or link.title or ""
            if ags.get("lineitem"):
                link.ags_lineitem_url = ags["lineitem"]
            cohort_key = str((data.get(claims.CUSTOM) or {}).get("cohort") or "").strip()
            if cohort_key:
                cohort = _get_or_create(
                    Cohort, course_id=course.id, slug=slugify(cohort_key),
                    defaults={"name": cohort_key.replace("-", " ").strip().capitalize()},
                )
                link.cohort_id = cohort.id
            cohort_id = link.cohort_id
            if cohort_id and LEARNER in roles:
                _get_or_create(Participant, cohort_id=cohort_id, user_id=user.id)

    user_id, course_id = user.id, course.id if course else None
    db.session.commit()
    presentation = data.get(claims.LAUNCH_PRESENTATION) or {}
    return SyncedLaunch(
        user_id=user_id,
        course_id=course_id,
        roles=roles,
        return_url=presentation.get("return_url"),
        locale=presentation.get("locale"),
        cohort_id=cohort_id,
    )
