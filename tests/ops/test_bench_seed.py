"""`flask bench seed` at a tiny scale: the same code the enterprise-size benchmark runs (make bench)."""
from __future__ import annotations

from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.models import Cohort, Participant, Reflection, Team
from tests.lti_platform import landed


def test_seed_fills_one_course_with_the_asked_numbers(app, runner, platform):
    result = runner.invoke(args=["bench", "seed", "--learners", "50", "--cohorts", "3", "--reflections", "700"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        count = lambda model: db.session.execute(select(func.count(model.id))).scalar_one()  # noqa: E731
        assert (count(Participant), count(Cohort), count(Reflection)) == (50, 3, 700)
        assert count(Team) == 24  # 17, 16, 17 people: pairs, with a trio in each odd cohort


def test_a_seeded_learner_launches_into_their_cohort(app, runner, lti):
    assert runner.invoke(args=["bench", "seed", "--learners", "50", "--cohorts", "3",
                               "--reflections", "100"]).exit_code == 0
    response = lti(sub="bench-learner-20", context_id="bench-enterprise", resource_link_id="bench-home")
    assert landed(response, "/learner/") and "Cohort 2" in response.get_data(as_text=True)
