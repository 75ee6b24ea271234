"""Who is making this request: the launch context loaded from the session, and role guards."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import bindparam

from .extensions import db
from .lti.registration import platform_origins
from .lti.roles import FACILITATOR, LEARNER, LND
from .models import Course, Deployment, LtiUser, Membership, Platform

SESSION_KEYS = ("launch_id", "user_id", "course_id", "roles", "return_url", "locale")


@dataclass
class LaunchContext:
    user: LtiUser
    course: Course | None
    roles: list[str]
    return_url: str | None
    locale: str | None
    launch_id: str | None
    platform: Platform | None = None
    # who may frame the responses (lti_tool.security), taken while the platform is loaded: a commit later in
    # the request expires it, and reading it again would need the database after the work is done
    frame_origins: list[str] = field(default_factory=list)
    # the cohorts of the course the person takes part in, when the launch answering with its landing page
    # knows them (a person's first launch, lti/sync.py); None: read them (services/courses.learner_cohorts)
    learner_cohorts: list | None = None

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def platform_id(self) -> int:
        return self.user.platform_id


def start_session(launch_id: str, synced) -> None:
    """Replace whatever the browser had with the ids of this launch (nothing else)."""
    session.clear()
    session.permanent = True
    session.update(
        launch_id=launch_id,
        user_id=synced.user_id,
        course_id=synced.course_id,
        roles=synced.roles,
        return_url=synced.return_url,
        locale=synced.locale,
    )


# Built once (every request of a launched user runs one; building costs about as much CPU as running).
# The course must belong to the user's platform; roles come from the membership row.
_IN_COURSE = (db.select(LtiUser, Course, Membership, Platform)
              .join(Platform, Platform.id == LtiUser.platform_id)
              .join(Membership, Membership.user_id == LtiUser.id)
              .join(Course, Course.id == Membership.course_id)
              .join(Deployment, Deployment.id == Course.deployment_id)
              .where(LtiUser.id == bindparam("user_id"), Course.id == bindparam("course_id"),
                     Deployment.platform_id == LtiUser.platform_id))
_WITHOUT_COURSE = (db.select(LtiUser, Platform).join(Platform, Platform.id == LtiUser.platform_id)
                   .where(LtiUser.id == bindparam("user_id")))


def launch_context_of(synced) -> LaunchContext:
    """The context of a launch just synced, from its own rows: what ``load_launch_context`` would read back.

    The sync upserted this user's membership of this course with these roles, and the course belongs to a
    deployment of the user's platform, which is what the query there checks."""
    return LaunchContext(synced.user, synced.course, list(synced.roles), synced.return_url, synced.locale,
                         session.get("launch_id"), synced.platform, platform_origins(synced.platform),
                         synced.learner_cohorts)


def load_launch_context() -> None:
    """Load the launched user (and course membership) named by the session, in one query; for the landing
    page a launch answers with, the launch's own context (``g.launch_context``) instead."""
    g.lti = None
    user_id = session.get("user_id")
    if not user_id:
        return
    launched = g.pop("launch_context", None)
    if launched is not None and launched.user.id == user_id and (
            launched.course.id if launched.course else None) == session.get("course_id"):
        g.lti = launched
        return
    course_id = session.get("course_id")
    if course_id:
        row = db.session.execute(_IN_COURSE, {"user_id": user_id, "course_id": course_id}).first()
        if row is None:
            session.clear()
            return
        user, course, membership, platform = row
        roles = list(membership.tool_roles or [])
    else:
        row = db.session.execute(_WITHOUT_COURSE, {"user_id": user_id}).first()
        if row is None:
            session.clear()
            return
        (user, platform), course = row, None
        roles = list(session.get("roles") or [])
    g.lti = LaunchContext(user, course, roles, session.get("return_url"), session.get("locale"),
                          session.get("launch_id"), platform, platform_origins(platform))


def landing_endpoint(roles: list[str]) -> str:
    if FACILITATOR in roles:
        return "facilitator.home"
    if LND in roles:
        return "insights.home"
    if LEARNER in roles:
        return "learner.home"
    return "lti.no_role"


def launch_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("lti") is None:
            abort(401)
        if g.lti.user.needs_profile and request.endpoint not in {"lti.profile"}:
            return redirect(url_for("lti.profile", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


def role_required(*roles: str, course: bool = True):
    """Allow the view only to a launched user holding one of ``roles`` (in a course if needed)."""
    def decorator(view):
        @wraps(view)
        @launch_required
        def wrapped(*args, **kwargs):
            if not any(g.lti.has(r) for r in roles):
                abort(403)
            if course and g.lti.course is None:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
