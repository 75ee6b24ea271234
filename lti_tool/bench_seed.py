"""Enterprise-size data for benchmarks: ``flask --app lti_tool bench seed`` (issue 14, item 7).

Bulk inserts through SQLAlchemy Core (``insert(table)`` with lists of dicts, which SQLAlchemy sends
as multi-row INSERT … VALUES batches), in chunks so memory stays bounded whatever the size. Every
row is ordinary product data in one course of one deployment: users and course memberships,
cohorts with dates, participants with a submitted intake, published match runs and teams (pairs,
a trio when a cohort is odd), attendance, calendar events, submitted reflections (lab sessions,
then follow-up meetings) and an audit log. A fixed random seed makes two runs alike.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator

from sqlalchemy import insert, select

from .extensions import db
from .models import (Attendance, AuditEvent, CalendarEvent, Cohort, Course, Deployment, LtiUser, MatchRun,
                     Membership, Participant, Platform, Reflection, Team, TeamMember)
from .services import insights_store
from .services.curriculum import reflective_sessions

CHUNK = 5_000
DEPARTMENTS = ["Finance", "Engineering", "Sales", "Operations", "Legal", "People", "Marketing", "Research"]
SKILLS = ["negotiation", "public-speaking", "data-analysis", "coaching", "budgeting", "python", "writing"]
SUB_PREFIX = "bench-learner-"


def _chunks(rows: Iterable[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model, rows: Iterable[dict], *, ids: bool = False, noted: bool = False) -> list[int]:
    """Insert ``rows`` in chunks; with ``ids``, the new primary keys in the rows' order. ``noted``: the caller
    rebuilds the insights tally itself (else each bulk insert of reflections asks for a rebuild at commit)."""
    out: list[int] = []
    for batch in _chunks(rows):
        if ids:
            stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
            out.extend(db.session.execute(stmt, batch).scalars().all())
        else:
            stmt = insert(model).execution_options(insight_tally=insights_store.NOTED) if noted else insert(model)
            db.session.execute(stmt, batch)
    return out


def _course(context_id: str, deployment_id: str | None) -> Course:
    """The course to fill: in the given deployment (or the only one), created when missing."""
    query = select(Deployment)
    if deployment_id:
        query = query.where(Deployment.deployment_id == deployment_id)
    deployments = db.session.execute(query).scalars().all()
    if not deployments and not deployment_id:
        platform = Platform(issuer="https://bench.invalid", client_id="bench", name="Benchmark LMS",
                            auth_login_url="https://bench.invalid/auth", auth_token_url="https://bench.invalid/token",
                            jwks_url="https://bench.invalid/jwks")
        db.session.add(platform)
        db.session.flush()
        deployments = [Deployment(platform_id=platform.id, deployment_id="bench")]
        db.session.add(deployments[0])
        db.session.flush()
    if len(deployments) != 1:
        raise ValueError(f"{len(deployments)} deployments match; name one with --deployment-id")
    course = db.session.execute(select(Course).where(Course.deployment_id == deployments[0].id,
                                                     Course.context_id == context_id)).scalars().first()
    if course is None:
        course = Course(deployment_id=deployments[0].id, context_id=context_id, title="Enterprise mentoring",
                        label=context_id.upper())
        db.session.add(course)
        db.session.flush()
    return course


def seed(*, learners: int, cohorts: int, reflections: int, context_id: str = "bench-enterprise",
         deployment_id: str | None = None, audit_events: int | None = None, seed_value: int = 14) -> dict[str, Any]:
    """Fill one course with ``learners`` people in ``cohorts`` cohorts and ``reflections`` reflections."""
    started = time.perf_counter()
    rng = random.Random(seed_value)
    course = _course(context_id, deployment_id)
    platform_id = course.deployment.platform_id
    now = datetime(2026, 11, 1)
    lab = [s.id for s in reflective_sessions()]
    per_person = max(1, -(-reflections // max(learners, 1)))  # lab sessions first, then follow-up meetings
    sessions = (lab + [f"follow-up-{i}" for i in range(1, per_person + 1)])[:max(per_person, 1)]
    counts: dict[str, int] = {}

    user_ids = _insert(LtiUser, ({"platform_id": platform_id, "sub": f"{SUB_PREFIX}{i}", "lms_name": f"Learner {i}",
                                  "lms_email": f"learner{i}@example.com", "locale": "en", "created_at": now,
                                  "last_launch_at": now} for i in range(learners)), ids=True)
    counts["users"] = len(user_ids)
    _insert(Membership, ({"course_id": course.id, "user_id": u, "lti_roles": [], "tool_roles": ["learner"]}
                         for u in user_ids))
    first_day = date(2024, 1, 8)
    cohort_rows = [{"course_id": course.id, "slug": f"bench-{i}", "name": f"Cohort {i + 1}",
                    "day_one": first_day + timedelta(days=(i * 3) // 4),
                    "day_two": first_day + timedelta(days=(i * 3) // 4 + 1), "timezone": "UTC",
                    "venue": "Room 1", "capacity": 24, "policy": {}, "pinned_pairs": [], "forbidden_pairs": [],
                    "schedule_mode": "blocks", "created_at": now} for i in range(cohorts)]
    cohort_ids = _insert(Cohort, cohort_rows, ids=True)
    counts["cohorts"] = len(cohort_ids)
    day_of = {cid: row["day_one"] for cid, row in zip(cohort_ids, cohort_rows)}

    def participant_rows():
        for i, u in enumerate(user_ids):
            yield {"cohort_id": cohort_ids[i * len(cohort_ids) // learners], "user_id": u, "status": "enrolled",
                   "joined_at": now, "gender": "woman" if i % 2 else "man", "department": rng.choice(DEPARTMENTS),
                   "level": rng.randint(1, 5), "offers": rng.sample(SKILLS, 2), "wants": rng.sample(SKILLS, 2),
                   "availability": ["tue-10", "thu-14"], "consent": True, "visible_fields": ["department"],
                   "intake_updated_at": now, "intake_submitted_at": now}
    participant_ids = _insert(Participant, participant_rows(), ids=True)
    counts["participants"] = len(participant_ids)
    members: dict[int, list[int]] = {}
    for i, pid in enumerate(participant_ids):
        members.setdefault(cohort_ids[i * len(cohort_ids) // learners], []).append(pid)

    # One published proposal per cohort, and its teams: pairs, the last one a trio when the cohort is odd.
    groups: dict[int, list[list[int]]] = {}
    for cid, people in members.items():
        teams = [people[k:k + 2] for k in range(0, len(people) - 1, 2)]
        if len(people) % 2 and teams:
            teams[-1].append(people[-1])
        groups[cid] = teams

    def run_rows():
        for cid in cohort_ids:
            pairs = [{"members": t, "a": t[0], "b": t[1], "score": 0.6, "gains": {str(m): 0.5 for m in t},
                      "reasons": ["Both want to learn what the other offers."]} for t in groups.get(cid, [])]
            yield {"cohort_id": cid, "created_at": now, "status": "done", "progress": 100, "kind": "full",
                   "pool": {"participants": [{"id": str(p), "name": f"Participant {p}"} for p in members.get(cid, [])]},
                   "result": {"pairs": pairs, "unmatched": [], "stats": {}}, "published_at": now}
    run_ids = _insert(MatchRun, run_rows(), ids=True)
    run_of = dict(zip(cohort_ids, run_ids))
    for batch in _chunks(({"id": cid, "published_run_id": run_of[cid]} for cid in cohort_ids)):
        db.session.execute(db.update(Cohort), batch)  # bulk UPDATE by primary key
    team_list = [(cid, t) for cid in cohort_ids for t in groups.get(cid, [])]
    team_ids = _insert(Team, ({"cohort_id": cid, "match_run_id": run_of[cid], "score": 0.6,
                               "gains": {str(m): 0.5 for m in t}, "reasons": [], "pod": k // 2, "status": "active",
                               "created_at": now} for k, (cid, t) in enumerate(team_list)), ids=True)
    _insert(TeamMember, ({"team_id": tid, "participant_id": m, "position": pos}
                         for tid, (_, t) in zip(team_ids, team_list) for pos, m in enumerate(t)))
    counts["teams"] = len(team_ids)

    # Calendar: the two lab days and one follow-up series per team.
    def event_rows():
        for cid in cohort_ids:
            for kind, n in (("lab", 2), ("follow_up", len(groups.get(cid, [])))):
                for k in range(n):
                    yield {"cohort_id": cid, "uid": f"bench-{cid}-{kind}-{k}@bench.invalid", "kind": kind,
                           "sequence": 0, "fingerprint": f"{cid:08x}{k:08x}".ljust(64, "0"), "status": "CONFIRMED",
                           "updated_at": now, "sent_sequence": 0, "sent_spec": {}}
    _insert(CalendarEvent, event_rows())
    counts["calendar_events"] = 2 * len(cohort_ids) + len(team_list)

    cohort_of = {pid: cid for cid, people in members.items() for pid in people}
    counts["attendance"] = 0

    def attendance_rows():
        for pid in participant_ids:
            for s in lab:
                counts["attendance"] += 1
                yield {"cohort_id": cohort_of[pid], "participant_id": pid, "session_id": s,
                       "present": rng.random() < 0.93, "recorded_at": now}
    _insert(Attendance, attendance_rows())

    counts["reflections"] = 0
    text = "I learned how my partner frames a difficult conversation before it starts. " * 3

    def reflection_rows():
        for pid in participant_ids:
            for s in sessions:
                if counts["reflections"] >= reflections:
                    return
                counts["reflections"] += 1
                cid = cohort_of[pid]
                at = datetime.combine(day_of[cid], datetime.min.time()) + timedelta(days=rng.randint(0, 180),
                                                                                    minutes=rng.randint(0, 1440))
                yield {"participant_id": pid, "cohort_id": cid, "session_id": s, "status": "submitted",
                       "answers": {"learned_from_partner": text, "taught_partner": text[:120],
                                   "gain_self": rng.randint(1, 5), "gain_partner": rng.randint(1, 5)},
                       "visibility": {"learned_from_partner": "facilitator", "taught_partner": "partner"},
                       "submitted_at": at, "updated_at": at}
    _insert(Reflection, reflection_rows(), noted=True)
    insights_store.rebuild()  # the insights' summary rows (per person and month), in one statement

    n_audit = learners * 2 if audit_events is None else audit_events
    actions = ["export", "publish", "roster_import", "removal"]
    _insert(AuditEvent, ({"at": now - timedelta(minutes=i), "platform_id": platform_id,
                          "deployment_id": course.deployment_id, "course_id": course.id,
                          "cohort_id": cohort_ids[i % len(cohort_ids)] if cohort_ids else None,
                          "actor_user_id": user_ids[i % len(user_ids)] if user_ids else None,
                          "actor_role": "facilitator", "action": actions[i % len(actions)],
                          "details": {"rows": i % 50}} for i in range(n_audit)))
    counts["audit_events"] = n_audit
    db.session.commit()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["course_id"] = course.id
    return counts
