"""Demo data: the development platform's course, its people and a cohort."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import current_app

from .extensions import db
from .lti.roles import map_roles
from .lti.sync import _get_or_create
from .models import Cohort, Course, Deployment, LtiUser, Membership, Participant
from .states import ReflectionStatus, RunStatus, TeamStatus


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
    people = []
    for person in dev.DEMO_USERS:
        user = _get_or_create(LtiUser, platform_id=reg.id, sub=f"dev-{person['key']}")
        user.lms_name, user.lms_email = person["name"], person["email"]
        roles = dev.ROLE_URIS[person["role"]]
        membership = _get_or_create(Membership, course_id=course.id, user_id=user.id)
        membership.lti_roles, membership.tool_roles = roles, map_roles(roles)
        if person["role"] == "learner" and person["name"]:
            people.append(user)
    facilitator = db.session.execute(db.select(LtiUser).where(LtiUser.platform_id == reg.id,
                                                              LtiUser.sub == "dev-fran")).scalar_one()
    # Three cohorts so every step can be clicked: Spring lab is matched and published (partners, calendar);
    # Summer lab is still taking intake (edit, browse and request, propose teams); Winter lab was held two
    # weeks ago (half-day reflections open, some written, figures for L&D).
    cohort = _demo_cohort(course, dev.COHORT_PARAM, "Spring lab", start, people, facilitator)
    _demo_cohort(course, "summer-lab", "Summer lab", start + timedelta(weeks=8), people, facilitator)
    teams = _publish_demo_teams(cohort, facilitator)
    held = _demo_cohort(course, "winter-lab", "Winter lab", start - timedelta(weeks=5), people, facilitator)
    _publish_demo_teams(held, facilitator)
    seed_reflections(held)
    return (f"Demo course '{course.title}' with {len(dev.DEMO_USERS)} people: cohort '{cohort.name}' on "
            f"{cohort.day_one:%Y-%m-%d} and {cohort.day_two:%Y-%m-%d} ({cohort.timezone}) with {teams} teams published, "
            f"cohort 'Summer lab' open for intake, and cohort '{held.name}' held on {held.day_one:%Y-%m-%d} "
            "with its morning reflections written.")


def _demo_cohort(course: Course, slug: str, name: str, start: date, people: list[LtiUser],
                 facilitator: LtiUser) -> Cohort:
    cohort = _get_or_create(Cohort, course_id=course.id, slug=slug, defaults={"name": name})
    cohort.day_one, cohort.day_two = start, start + timedelta(days=1)
    cohort.timezone, cohort.venue = "Europe/Berlin", "Berlin office, room Kepler"
    cohort.video_link = f"https://meet.example.com/{slug}"
    for user in people:
        _get_or_create(Participant, cohort_id=cohort.id, user_id=user.id)
    cohort.facilitator_user_id = facilitator.id
    db.session.commit()
    seed_intake(cohort)
    return cohort


def _publish_demo_teams(cohort: Cohort, facilitator: LtiUser) -> int:
    """Match the demo cohort and publish the teams (once), so invites and partners show at once."""
    from .models import MatchRun, Team
    from .services import matchmaking

    if cohort.published_run_id:
        return db.session.execute(db.select(db.func.count(Team.id)).where(
            Team.cohort_id == cohort.id, Team.status == TeamStatus.ACTIVE)).scalar()
    run = matchmaking.start_run(cohort, facilitator)
    run = db.session.get(MatchRun, run.id)
    if run.status != RunStatus.DONE:  # queued on Redis: publishing waits for the facilitator
        return 0
    return len(matchmaking.publish(run))


# Demo intake: mixed genders, complementary skills (what one offers, another wants).
DEMO_INTAKE = {
    "dev-ana": ("woman", "Finance", "Lisbon", "Europe/Lisbon", 3, ["Negotiation", "Finance for non-finance people"],
                ["Data analysis", "Public speaking"], ["tue-14", "tue-15", "thu-10"]),
    "dev-ben": ("man", "Engineering", "Berlin", "Europe/Berlin", 3, ["Data analysis", "Digital tools"],
                ["Negotiation", "Stakeholder management"], ["tue-14", "wed-09", "thu-10"]),
    "dev-chloe": ("woman", "Marketing", "Paris", "Europe/Paris", 2, ["Public speaking", "Writing"],
                  ["Spreadsheets and modelling", "Strategy"], ["mon-11", "tue-15", "fri-09"]),
    "dev-dev": ("man", "Finance", "Berlin", "Europe/Berlin", 4, ["Spreadsheets and modelling", "Strategy"],
                ["Public speaking", "Giving feedback"], ["mon-11", "wed-16", "fri-09"]),
    "dev-emma": ("non-binary", "People & Culture", "Stockholm", "Europe/Stockholm", 3,
                 ["Giving feedback", "Coaching others"], ["AI tools", "Project management"], ["wed-09", "thu-13"]),
    "dev-farid": ("man", "Operations", "Berlin", "Europe/Berlin", 2, ["Project management", "AI tools"],
                  ["Coaching others", "Leadership"], ["wed-09", "thu-13", "thu-14"]),
    "dev-grace": ("woman", "Engineering", "Lisbon", "Europe/Lisbon", 4, ["Leadership", "Leading change"],
                  ["Sales", "Customer insight"], ["tue-10", "thu-14"]),
    "dev-hugo": ("man", "Sales", "Lisbon", "Europe/Lisbon", 3, ["Sales", "Customer insight"],
                 ["Leadership", "Decision making"], ["tue-10", "thu-14", "fri-15"]),
}


def seed_intake(cohort: Cohort) -> None:
    """Submitted intake for the demo learners (idempotent), so the browse page shows people."""
    from .services.intake import DEFAULT_VISIBLE

    rows = db.session.execute(
        db.select(Participant, LtiUser).join(LtiUser, LtiUser.id == Participant.user_id)
        .where(Participant.cohort_id == cohort.id)
    ).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for participant, user in rows:
        data = DEMO_INTAKE.get(user.sub)
        if data is None or participant.intake_submitted_at is not None:
            continue
        (participant.gender, participant.department, participant.location, participant.timezone,
         participant.level, participant.offers, participant.wants, participant.availability) = data
        participant.goals = "Grow as a leader by learning from someone whose work is unlike mine."
        participant.consent = True
        participant.visible_fields = DEFAULT_VISIBLE + ["gender", "level", "goals"]
        participant.intake_updated_at = participant.intake_submitted_at = now
    db.session.commit()


# Demo reflections of the lab already held: the first morning, written by everyone but Ana (so she can
# write hers), shared as the form suggests.
DEMO_LEARNED = ["How a budget is really negotiated", "Reading a room before I speak", "Asking before advising",
                "That my questions help others think", "Writing shorter emails", "Saying no without a fight",
                "How engineers estimate", "Listening to the end of a sentence"]


def seed_reflections(cohort: Cohort) -> None:
    """Submitted reflections on the first morning for the cohort's demo learners (idempotent)."""
    from .models import Reflection
    from .services import curriculum as cur
    from .services.visibility import default_for

    first = cur.half_day_reflections()[0]
    rows = db.session.execute(
        db.select(Participant, LtiUser).join(LtiUser, LtiUser.id == Participant.user_id)
        .where(Participant.cohort_id == cohort.id).order_by(Participant.id)).all()
    written = set(db.session.execute(db.select(Reflection.participant_id).where(
        Reflection.cohort_id == cohort.id, Reflection.session_id == first.id)).scalars())
    when = datetime.combine(cohort.day_one, datetime.min.time()) + timedelta(hours=12)
    for i, (participant, user) in enumerate(rows):
        if user.sub == "dev-ana" or participant.id in written or participant.intake_submitted_at is None:
            continue
        answers = {p.id: (3 + (i + k) % 3 if p.kind == "rating" else DEMO_LEARNED[i % len(DEMO_LEARNED)])
                   for k, p in enumerate(first.prompts)}
        db.session.add(Reflection(participant_id=participant.id, cohort_id=cohort.id, session_id=first.id,
                                  answers=answers, visibility={p.id: default_for(p.id) for p in first.prompts},
                                  status=ReflectionStatus.SUBMITTED, submitted_at=when, updated_at=when))
    db.session.commit()
