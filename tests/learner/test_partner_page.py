"""The partner page: who my partner is, how to reach them, what we give each other, when we are both free,
and what to do next. Only my own active team, only as a learner."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import Team
from lti_tool.states import TeamStatus
from tests.learner.conftest import fill
from tests.learner.test_home_and_services import publish


def pair_ana_and_ben(app, people, **ana):
    a = fill(app, "ana", offers=["Negotiation", "Leadership"], wants=["Data analysis"],
             availability=["tue-14", "tue-16", "wed-09"], timezone="Asia/Tokyo", **ana)
    b = fill(app, "ben", offers=["Data analysis"], wants=["Negotiation"], availability=["tue-14", "tue-16"],
             department="Engineering", level=2, visible_fields=["department", "level"])
    c, d = fill(app, "chloe"), fill(app, "dev")
    publish(app, people, [([a, b], [], 1), ([c, d], [], 1)])
    return a, b


def test_partner_page_names_partner_role_and_email_link(people, client, app):
    pair_ana_and_ben(app, people)
    html = client.get(f"/learner/cohorts/{people}/partner").get_data(as_text=True)
    assert ">Ben Okafor</h2>" in html
    assert '<a href="mailto:ben@example.com">ben@example.com</a>' in html
    assert "Engineering" in html and "Experienced individual contributor" in html
    assert "Chloé Martin" not in html and "Dev Raman" not in html


def test_partner_page_says_what_each_wants_from_the_other(people, client, app):
    pair_ana_and_ben(app, people)
    html = client.get(f"/learner/cohorts/{people}/partner").get_data(as_text=True)
    assert "You offer Negotiation, which Ben Okafor wants to learn" in html
    assert "Ben Okafor offers Data analysis, which you want to learn" in html
    assert "Leadership" not in html  # not wanted by Ben: not part of the exchange


def test_partner_page_lists_shared_free_hours_in_my_time_zone(people, client, app):
    pair_ana_and_ben(app, people)  # cohort in UTC, Ana in Tokyo (UTC+9, no daylight saving)
    html = client.get(f"/learner/cohorts/{people}/partner").get_data(as_text=True)
    assert "Times are in your time zone, Asia/Tokyo." in html
    assert "<li>Tuesday 23:00</li>" in html and "<li>Wednesday 1:00</li>" in html
    assert "Wednesday 18:00" not in html  # wed-09 is only Ana's


def test_partner_page_says_what_to_do_next(people, client, app):
    pair_ana_and_ben(app, people)
    html = client.get(f"/learner/cohorts/{people}/partner").get_data(as_text=True)
    assert "What to do next" in html and "Say hello to Ben Okafor" in html


def test_home_links_to_the_partner_page(people, client, app):
    pair_ana_and_ben(app, people)
    html = client.get("/learner/").get_data(as_text=True)
    assert f'href="/learner/cohorts/{people}/partner"' in html


def test_no_partner_page_before_publishing(people, client, app):
    fill(app, "ana")
    assert client.get(f"/learner/cohorts/{people}/partner").status_code == 404


def test_no_partner_page_once_my_team_is_dissolved(people, client, app):
    a, _ = pair_ana_and_ben(app, people)
    with app.app_context():
        team = db.session.execute(db.select(Team).where(Team.having_member(a))).scalar_one()
        team.status = TeamStatus.DISSOLVED
        db.session.commit()
    assert client.get(f"/learner/cohorts/{people}/partner").status_code == 404


def test_partner_page_is_for_learners_only(people, lti, client, app):
    pair_ana_and_ben(app, people)
    lti(role="instructor", sub="teacher", name="Tess", email="t@example.com")
    assert client.get(f"/learner/cohorts/{people}/partner").status_code == 403
