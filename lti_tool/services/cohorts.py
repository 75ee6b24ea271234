"""Cohorts of the launch's course: lookups always scoped to that course."""
from __future__ import annotations

from flask import abort, g

from ..extensions import db
from . import calendar_events
from ..lti.sync import slugify
from ..models import Cohort, LtiUser, Participant


def cohort_in_course(cohort_id: int) -> Cohort:
    """The cohort if it belongs to the launched course, else 404 (never another course's data)."""
    cohort = db.session.execute(
        db.select(Cohort).where(Cohort.id == cohort_id, Cohort.course_id == g.lti.course.id)
    ).scalars().first()
    if cohort is None:
        abort(404)
    return cohort


def unique_slug(course_id: int, name: str) -> str:
    base = slugify(name)
    slug, n = base, 2
    while db.session.execute(db.select(Cohort.id).where(Cohort.course_id == course_id, Cohort.slug == slug)).first():
        slug, n = f"{base}-{n}", n + 1
    return slug


def save_cohort(form, cohort: Cohort | None = None) -> Cohort:
    """Create or update a cohort from a validated CohortForm."""
    if cohort is None:
        cohort = Cohort(course_id=g.lti.course.id, slug=unique_slug(g.lti.course.id, form.name.data),
                        facilitator_user_id=g.lti.user.id)
        db.session.add(cohort)
    cohort.name = form.name.data.strip()
    cohort.day_one, cohort.day_two = form.day_one.data, form.day_two.data
    cohort.timezone = form.timezone.data
    cohort.venue = (form.venue.data or "").strip() or None
    cohort.video_link = (form.video_link.data or "").strip() or None
    cohort.capacity = form.capacity.data
    cohort.schedule_mode = form.schedule_mode.data
    cohort.policy = form.policy()
    db.session.commit()
    calendar_events.record_versions(cohort)  # new dates or venue: the events' new versions, ready to send
    return cohort


def roster(cohort: Cohort) -> list[tuple[Participant, LtiUser]]:
    return list(db.session.execute(
        db.select(Participant, LtiUser).join(LtiUser, LtiUser.id == Participant.user_id)
        .where(Participant.cohort_id == cohort.id)
        .order_by(LtiUser.display_name, LtiUser.lms_name, LtiUser.id)
    ).all())
