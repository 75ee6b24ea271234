"""Course-scoped queries: every read of course data goes through the launch's scope."""
from __future__ import annotations

from sqlalchemy import bindparam, func

from ..extensions import db
from ..models import Cohort, Course, Deployment, Participant
from ..states import ParticipantStatus


def cohorts_in_course(course: Course) -> list[tuple[Cohort, int]]:
    """Cohorts of one course with how many take part (removed and withdrawn people are not counted)."""
    rows = db.session.execute(
        db.select(Cohort, func.count(Participant.id))
        .outerjoin(Participant, (Participant.cohort_id == Cohort.id)
                   & (Participant.status == ParticipantStatus.ENROLLED))
        .where(Cohort.course_id == course.id)
        .group_by(Cohort.id)
        .order_by(Cohort.id)
    ).all()
    return [(cohort, count) for cohort, count in rows]


# Built once: a learner's landing page runs it on every launch.
_COHORTS_OF_LEARNER = (db.select(Cohort).join(Participant, Participant.cohort_id == Cohort.id)
                       .where(Cohort.course_id == bindparam("course_id"), Participant.user_id == bindparam("user_id"))
                       .order_by(Cohort.id))


def cohorts_of_learner(course: Course, user_id: int) -> list[Cohort]:
    return list(db.session.execute(_COHORTS_OF_LEARNER, {"course_id": course.id, "user_id": user_id}).scalars())


def learner_cohorts(lti) -> list[Cohort]:
    """The cohorts of the launch context's course that its person takes part in; a first launch's landing
    page has them from the launch (``LaunchContext.learner_cohorts``) and asks the database nothing."""
    if lti.learner_cohorts is not None:
        return list(lti.learner_cohorts)
    return cohorts_of_learner(lti.course, lti.user.id)


def cohorts_in_deployment(course: Course) -> list[tuple[Cohort, Course, int]]:
    """For L&D: every cohort of every course in the launch's deployment (never another's)."""
    rows = db.session.execute(
        db.select(Cohort, Course, func.count(Participant.id))
        .join(Course, Course.id == Cohort.course_id)
        .join(Deployment, Deployment.id == Course.deployment_id)
        .outerjoin(Participant, Participant.cohort_id == Cohort.id)
        .where(Course.deployment_id == course.deployment_id)
        .group_by(Cohort.id, Course.id)
        .order_by(Course.id, Cohort.id)
    ).all()
    return [(cohort, c, n) for cohort, c, n in rows]
