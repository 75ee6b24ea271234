"""Insights page benchmark: 50 cohorts, 600 participants, 8,000 reflections on a fresh PostgreSQL.

Creates a database, applies the real migrations, seeds a deployment with generated data (fixed
random seed), launches as L&D through the loopback test LMS, then times GET /insights/ in process
(Flask test client: server time to render, no network). Writes benchmarks/results/insights.md and
drops the database. Target: median and 95th percentile under 300 ms.

The lab has 10 reflective sessions, so 600 people can hold at most 6,000 lab reflections; the other
2,000 are follow-up meeting reflections (session ids ``follow-up-N``, the curriculum's follow-up
prompts), which insights count the same way.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
COHORTS, PEOPLE, REFLECTIONS, RUNS = 50, 600, 8000, 40
DEPARTMENTS = ["Finance", "Engineering", "Sales", "Operations", "Legal", "People", "Marketing", "Research"]


def seed(db, course_id: int, platform_id: int) -> None:
    from lti_tool.models import Attendance, Cohort, LtiUser, Participant, Reflection, Team
    from lti_tool.services.curriculum import curriculum, half_day_reflections

    rng = random.Random(7)
    lab = [s.id for s in curriculum().sessions if not s.is_break]
    halves = [r.id for r in half_day_reflections()]
    start = date(2025, 1, 6)
    cohorts = [dict(course_id=course_id, slug=f"c{i}", name=f"Cohort {i + 1}", day_one=start + timedelta(weeks=2 * i),
                    day_two=start + timedelta(weeks=2 * i, days=1), policy={}, pinned_pairs=[], forbidden_pairs=[])
               for i in range(COHORTS)]
    db.session.execute(db.insert(Cohort), cohorts)
    cohort_rows = db.session.execute(db.select(Cohort.id, Cohort.day_one).order_by(Cohort.id)).all()
    db.session.execute(db.insert(LtiUser), [dict(platform_id=platform_id, sub=f"b{i}", lms_name=f"Person {i}",
                                                 lms_email=f"p{i}@example.com") for i in range(PEOPLE)])
    users = db.session.execute(db.select(LtiUser.id).where(LtiUser.sub.like("b%")).order_by(LtiUser.id)).scalars().all()
    per = PEOPLE // COHORTS
    db.session.execute(db.insert(Participant), [dict(
        cohort_id=cohort_rows[i // per][0], user_id=u, department=rng.choice(DEPARTMENTS),
        gender="woman" if i % 2 else "man", intake_submitted_at=datetime(2025, 1, 1), offers=[], wants=[],
        availability=[], visible_fields=[]) for i, u in enumerate(users)])
    people = db.session.execute(db.select(Participant.id, Participant.cohort_id).order_by(Participant.id)).all()
    day_of = dict(cohort_rows)
    db.session.execute(db.insert(Attendance), [dict(cohort_id=c, participant_id=p, session_id=s, present=True)
                                               for p, c in people for s in lab if rng.random() < 0.9])
    teams = []
    for k in range(0, len(people) - 1, 2):
        (a, c), (b, _) = people[k], people[k + 1]
        teams.append(Team(cohort_id=c, member_ids=[a, b], score=round(rng.random(), 3),
                          gains={str(a): rng.random(), str(b): rng.random()}, reasons=[]))
    db.session.add_all(teams)
    db.session.flush()
    rows, n = [], 0
    follow = [f"follow-up-{i}" for i in range(1, 7)]
    for p, c in people:
        for s in halves + follow:
            if n >= REFLECTIONS or (s in follow and len(rows) >= REFLECTIONS):
                break
            rows.append(dict(participant_id=p, cohort_id=c, session_id=s, status="submitted",
                             answers={"learned_from_partner": "text " * 30, "taught_partner": "text " * 20,
                                      "gain_self": rng.randint(1, 5), "gain_partner": rng.randint(1, 5)},
                             visibility={}, submitted_at=datetime.combine(day_of[c], datetime.min.time())
                             + timedelta(days=rng.randint(0, 120)), updated_at=datetime(2025, 6, 1)))
            n += 1
    db.session.execute(db.insert(Reflection), rows[:REFLECTIONS])
    db.session.commit()


def main() -> None:
    name = f"rml_bench_insights_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name
    try:
        from flask_migrate import upgrade
        from sqlalchemy import event

        from lti_tool import create_app
        from lti_tool.extensions import db
        from lti_tool.lti.registration import save_platform
        from lti_tool.models import Course, Reflection
        from tests.conftest import https_client
        from tests.lti_platform import Launcher, TestPlatform

        app = create_app("config.settings.TestingConfig", SQLALCHEMY_DATABASE_URI=url)
        lms = TestPlatform()
        with app.app_context():
            upgrade()
            save_platform(**lms.registration_args())
        client = https_client(app)
        launcher = Launcher(client, lms)
        assert launcher(role="lnd", sub="lnd-admin").status_code in (200, 302, 303)
        with app.app_context():
            course = db.session.execute(db.select(Course)).scalar_one()
            t0 = time.perf_counter()
            seed(db, course.id, course.deployment.platform_id)
            seed_s = time.perf_counter() - t0
            n_refl = db.session.execute(db.select(db.func.count(Reflection.id))).scalar()
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        queries = {"n": 0}
        with app.app_context():
            engine = db.engine

        def count(*_a, **_k):
            queries["n"] += 1

        for _ in range(3):
            assert client.get("/insights/").status_code == 200
        event.listen(engine, "before_cursor_execute", count)
        assert client.get("/insights/").status_code == 200
        event.remove(engine, "before_cursor_execute", count)
        times, cpu = [], []
        load_before = os.getloadavg()[0]
        for _ in range(RUNS):
            t, c = time.perf_counter(), time.process_time()
            r = client.get("/insights/")
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            assert r.status_code == 200
        csv_t = []
        for _ in range(10):
            t = time.perf_counter()
            assert client.get("/insights/export/by_cohort.csv").status_code == 200
            csv_t.append((time.perf_counter() - t) * 1000)
        cold = []  # the first page after any change of the data: the audited unfiltered page is rebuilt
        from lti_tool.services import insights as insights_service
        for _ in range(10):
            insights_service.forget_kept(app)  # as after a data change: nothing kept
            t = time.perf_counter()
            assert client.get("/insights/").status_code == 200
            cold.append((time.perf_counter() - t) * 1000)
        times.sort()
        median, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        verdict = "PASS" if p95 < 300 else "FAIL"
        out = ROOT / "benchmarks" / "results" / "insights.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"""# Insights page benchmark

PostgreSQL (fresh database, real migrations), {COHORTS} cohorts, {PEOPLE} participants,
{n_refl} submitted reflections (6,000 lab + follow-up reflections), {len(times)} timed requests of
`GET /insights/` as L&D (Flask test client, in process: server time to render), after 3 warm-up requests; the audited
unfiltered page is kept between requests until the data changes (last row: when it must be rebuilt).
Seeding took {seed_s:.1f} s. Generated by `benchmarks/insights_bench.py` on {datetime.now().isoformat(timespec='minutes')}.

| measure | value |
|---|---|
| machine load (1-minute average, {os.cpu_count()} cores) before / after | {load_before:.1f} / {os.getloadavg()[0]:.1f} |
| median | {median:.1f} ms |
| 95th percentile | {p95:.1f} ms |
| max | {max(times):.1f} ms |
| CPU time of this process per page, median (less sensitive to other load) | {statistics.median(cpu):.1f} ms |
| SQL queries per page | {queries['n']} |
| CSV export (by cohort), median | {statistics.median(csv_t):.1f} ms |
| first page after the data changed (suppression and audit rebuilt), median / max | {statistics.median(cold):.1f} / {max(cold):.1f} ms |
| target (p95 < 300 ms) | {verdict} |
""")
        print(out.read_text())
        lms.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
