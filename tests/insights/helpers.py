"""Seed a deployment's cohorts, participants, teams, attendance and reflections directly in the DB."""
from __future__ import annotations

from datetime import date, datetime, timedelta


def seed(app, platform_issuer=None, *, cohorts=2, per_cohort=6, departments=("Finance",), course_id=None,
         reflections=True, start=date(2026, 3, 2)):
    from lti_tool.extensions import db
    from lti_tool.models import Attendance, Cohort, Course, LtiUser, Participant, Reflection, Team

    with app.app_context():
        course = db.session.get(Course, course_id) if course_id else db.session.execute(db.select(Course)).scalars().first()
        platform_id = course.deployment.platform_id
        made = []
        for c in range(cohorts):
            cohort = Cohort(course_id=course.id, slug=f"seed-{c}-{db.session.execute(db.select(db.func.count(Cohort.id))).scalar()}",
                            name=f"Cohort {c + 1}", day_one=start + timedelta(days=30 * c),
                            day_two=start + timedelta(days=30 * c + 1))
            db.session.add(cohort)
            db.session.flush()
            ids = []
            for i in range(per_cohort):
                user = LtiUser(platform_id=platform_id, sub=f"seed-{cohort.id}-{i}", lms_name=f"P{i}",
                               lms_email=f"p{cohort.id}-{i}@example.com")
                db.session.add(user)
                db.session.flush()
                p = Participant(cohort_id=cohort.id, user_id=user.id, department=departments[i % len(departments)],
                                gender="woman" if i % 2 else "man", intake_submitted_at=datetime(2026, 3, 1))
                db.session.add(p)
                db.session.flush()
                ids.append(p.id)
                for sid in ("d1-welcome", "d2-goals"):
                    db.session.add(Attendance(cohort_id=cohort.id, participant_id=p.id, session_id=sid))
                if reflections:
                    db.session.add(Reflection(participant_id=p.id, cohort_id=cohort.id, session_id="d1-welcome",
                                              answers={"learned_from_partner": f"SECRET-{p.id}", "gain_self": 4,
                                                       "gain_partner": 3},
                                              visibility={}, status="submitted",
                                              submitted_at=datetime.combine(cohort.day_one, datetime.min.time())))
            for a, b in zip(ids[::2], ids[1::2]):
                db.session.add(Team(cohort_id=cohort.id, member_ids=[a, b], score=0.7, gains={str(a): 1, str(b): 1}))
            made.append(cohort.id)
        db.session.commit()
        return made
