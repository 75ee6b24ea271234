"""Home: one clear next step per cohort first, then the rest, without repetition or '1 hours'."""
from __future__ import annotations

from datetime import date, timedelta

from lti_tool.extensions import db
from lti_tool.models import Cohort, Participant, Reflection, utcnow
from lti_tool.services.curriculum import half_day_reflections
from tests.learner.conftest import fill, participant_of
from tests.learner.test_home_and_services import publish


def card(client) -> str:
    html = client.get("/learner/").get_data(as_text=True)
    return html[html.index('<li class="card">'):]


def set_days(app, cohort_id, day_one):
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        cohort.day_one, cohort.day_two = day_one, day_one + timedelta(days=1)
        db.session.commit()


def test_next_step_comes_first_and_follows_the_learner(people, client, app):
    html = card(client)
    assert html.index("Next step: Fill in your intake") < html.index("Dates to be announced")
    assert html.count('class="button" href=') == 1  # one clear action

    with app.app_context():  # a draft was saved
        db.session.get(Participant, participant_of(app, "ana").id).intake_updated_at = utcnow()
        db.session.commit()
    assert "Next step: Finish your intake" in card(client)

    ana, ben = fill(app, "ana"), fill(app, "ben")
    html = card(client)
    assert "Next step: Wait for the pairs to be formed" in html
    assert f'class="button" href="/learner/cohorts/{people}/people">Browse people and request partners' in html
    assert html.count("Browse people and request partners") == 1  # not repeated below

    set_days(app, people, date.today() + timedelta(days=10))
    publish(app, people, [([ana, ben], ["a cross-gender team"], 1)])
    html = card(client)
    assert "Next step: Meet Ben Okafor at the lab" in html and "The lab starts on" in html
    assert html.index("Next step") < html.index("<h3>Your partner</h3>")
    assert f'class="button" href="/learner/cohorts/{people}/calendar.ics"' in html

    set_days(app, people, date.today() - timedelta(days=3))
    first = half_day_reflections()[0]
    html = card(client)
    assert "Next step: Write your reflection" in html and first.title in html
    assert f'class="button" href="/learner/cohorts/{people}/reflections/{first.id}"' in html
    with app.app_context():
        db.session.add(Reflection(participant_id=ana, cohort_id=people, session_id=first.id, status="submitted", answers={},
                                  visibility={}))
        db.session.commit()
    assert f"reflections/{half_day_reflections()[1].id}\"" in card(client)


def test_home_is_not_repetitive_and_counts_in_words(people, client, app):
    ana, ben, chloe, dev = (fill(app, s) for s in ("ana", "ben", "chloe", "dev"))
    publish(app, people, [([ana, ben], ["1 hours apart in time zones"], 1), ([chloe, dev], [], 1)])
    html = client.get("/learner/").get_data(as_text=True)
    assert "Your pod (1)" not in html and "<h4>Your pod</h4>" in html
    assert "You share a small group with one other team:" in html
    assert "1 hour apart in time zones" in html and "1 hours" not in html
    assert html.count("Intake profile submitted") == 1  # one checklist, not two
    assert html.count('href="/learner/my-data"') == 1
