"""Demo data: the development platform's course, its people and a cohort."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from .extensions import db
from .lti.roles import map_roles
from .lti.sync import _get_or_create
from .models import Cohort, Course, Deployment, LtiUser, Membership, Participant, utcnow


# Complementary profiles so the demo cohort can be matched straight away.
DEMO_INTAKE = {
    "ana": ("woman", "Sales", "Lisbon", "Europe/Lisbon", 4, ["negotiation", "stakeholder management"],
            ["data analysis", "generative AI tools"]),
    "ben": ("man", "Engineering", "Berlin", "Europe/Berlin", 2, ["data analysis", "python"],
            ["negotiation", "public speaking"]),
    "chloe": ("woman", "Engineering", "Berlin", "Europe/Berlin", 2, ["generative AI tools", "automation"],
              ["leadership", "navigating politics"]),
    "dev": ("man", "Finance", "London", "Europe/London", 5, ["leadership", "budgeting"],
            ["generative AI tools", "dashboards"]),
    "emma": ("woman", "Finance", "Berlin", "Europe/Berlin", 5, ["strategic planning", "coaching"],
             ["python", "social media"]),
    "farid": ("man", "Marketing", "Berlin", "Europe/Berlin", 1, ["social media", "dashboards"],
              ["coaching", "strategic planning"]),
    "grace": ("woman", "Operations", "London", "Europe/London", 3, ["project management", "public speaking"],
              ["data analysis", "automation"]),
    "hugo": ("non-binary", "Product", "Lisbon", "Europe/Lisbon", 3, ["UX research", "data analysis"],
             ["project management", "negotiation"]),
}


def fill_intake(participant: Participant, profile: tuple) -> None:
    gender, department, location, tz, level, offers, wants = profile
    if participant.intake_submitted_at:
        return
    participant.gender, participant.department, participant.location = gender, department, location
    participant.timezone, participant.level, participant.offers, participant.wants = tz, level, offers, wants
    participant.availability = ["tue-10", "tue-11", "thu-14", "thu-15", "fri-09"]
    participant.consent = True
    participant.visible_fields = ["department", "location", "offers", "wants"]
    participant.intake_updated_at = participant.intake_submitted_at = utcnow()


def seed() -> str:
    if not current_app.config.get("LTI_DEV_PLATFORM"):
        raise RuntimeError("`demo seed` needs the development platform (LTI_DEV_PLATFORM=1).")
    from .dev import platform as dev

    reg = dev.ensure_registered()
    deployment = db.session.execute(
        db.select(Deployment).where(Deployment.platform_id == reg.id, Deployment.deployment_id == dev.DEPLOYMENT_ID)
    ).scalar_one()
    course = _get_or_create(Course, deployment_id=deployment.id, context_id=dev.CONTEXT["id"])
    course.title, course.label = dev.CONTEXT["title"], dev.CONTEXT["label"]
    start = date.today() + timedelta(days=21)
    while start.weekday() != 1:  # a Tuesday and Wednesday
        start += timedelta(days=1)
    cohort = _get_or_create(Cohort, course_id=course.id, slug=dev.COHORT_PARAM,
                            defaults={"name": "Spring lab"})
    cohort.day_one, cohort.day_two = start, start + timedelta(days=1)
    cohort.timezone, cohort.venue = "Europe/Berlin", "Berlin office, room Kepler"
    cohort.video_link = "https://meet.example.com/spring-lab"
    for person in dev.DEMO_USERS:
        user = _get_or_create(LtiUser, platform_id=reg.id, sub=f"dev-{person['key']}")
        user.lms_name, user.lms_email = person["name"], person["email"]
        roles = dev.ROLE_URIS[person["role"]]
        membership = _get_or_create(Membership, course_id=course.id, user_id=user.id)
        membership.lti_roles, membership.tool_roles = roles, map_roles(roles)
        if person["role"] == "learner" and person["name"]:
            participant = _get_or_create(Participant, cohort_id=cohort.id, user_id=user.id)
            fill_intake(participant, DEMO_INTAKE[person["key"]])
    facilitator = db.session.execute(db.select(LtiUser).where(LtiUser.platform_id == reg.id,
                                                              LtiUser.sub == "dev-fran")).scalar_one()
    cohort.facilitator_user_id = facilitator.id
    db.session.commit()
    teams = _publish_demo_teams(cohort, facilitator)
    return (f"{teams} teams published. Demo course '{course.title}' with {len(dev.DEMO_USERS)} people and cohort '{cohort.name}' "
            f"on {cohort.day_one:%Y-%m-%d} and {cohort.day_two:%Y-%m-%d} ({cohort.timezone}).")


def _publish_demo_teams(cohort: Cohort, facilitator: LtiUser) -> int:
    """Match the demo cohort and publish the teams (once), so invites and partners show at once."""
    from .models import MatchRun, Team
    from .services import matchmaking

    if cohort.published_run_id:
        return db.session.execute(db.select(db.func.count(Team.id)).where(
            Team.cohort_id == cohort.id, Team.status == "active")).scalar()
    run = matchmaking.start_run(cohort, facilitator)
    run = db.session.get(MatchRun, run.id)
    if run.status != "done":  # queued on Redis: publishing waits for the facilitator
        return 0
    return len(matchmaking.publish(run))
