"""Learner home after publishing, withdrawal, and what the matcher gets from intake."""
from __future__ import annotations

import pytest

from lti_tool.extensions import db
from lti_tool.models import Cohort, MatchRun, Participant, Team
from lti_tool.services import intake, matchmaking, withdrawal
from lti_tool.services.skills import TaxonomyError, load_taxonomy, taxonomy
from tests.conftest import csrf_token_in
from tests.learner.conftest import fill, participant_of


def publish(app, cohort_id, teams):
    with app.app_context():
        run = MatchRun(cohort_id=cohort_id, status="done")
        db.session.add(run)
        db.session.flush()
        for members, reasons, pod in teams:
            db.session.add(Team(cohort_id=cohort_id, match_run_id=run.id, member_ids=members, reasons=reasons,
                                pod=pod))
        db.session.get(Cohort, cohort_id).published_run_id = run.id
        db.session.commit()


def test_home_before_intake_links_to_intake(people, client):
    html = client.get("/learner/").get_data(as_text=True)
    assert "Next step: Fill in your intake" in html and "Intake profile submitted: <strong>to do</strong>" in html
    assert f'class="button" href="/learner/cohorts/{people}/intake">Fill in your intake' in html


def test_home_after_publishing_shows_partner_reasons_and_pod(people, client, app):
    ana, ben, chloe, dev = (fill(app, s) for s in ("ana", "ben", "chloe", "dev"))
    publish(app, people, [([ana, ben], ["Ana offers negotiation, which Ben wants"], 1),
                          ([chloe, dev], ["Chloé offers writing, which Dev wants"], 1)])
    html = client.get("/learner/").get_data(as_text=True)
    assert "Intake profile submitted: <strong>done</strong>" in html
    assert "<h3>Your partner</h3>\n    <p>Ben Okafor</p>" in html
    assert "Ana offers negotiation, which Ben wants" in html and "Chloé offers writing" not in html
    assert "Chloé Martin &amp; Dev Raman" in html  # the other team in the pod
    assert "Browse people" not in html  # requests are closed


def test_withdraw_needs_confirmation(people, client, app):
    page = client.get(f"/learner/cohorts/{people}/withdraw")
    assert page.status_code == 200 and "Yes, I can no longer take part" in page.get_data(as_text=True)
    assert participant_of(app, "ana").status == "enrolled"
    r = client.post(f"/learner/cohorts/{people}/withdraw", data={"csrf_token": csrf_token_in(page)},
                    follow_redirects=True)
    assert "You have withdrawn from this lab." in r.get_data(as_text=True)
    p = participant_of(app, "ana")
    assert p.status == "withdrawn" and p.withdrawn_at is not None


def test_withdrawn_people_leave_browse_and_preferences(people, app):
    ana, ben = fill(app, "ana"), fill(app, "ben")
    with app.app_context():
        me = db.session.get(Participant, ana)
        intake.set_preference(me, ben, "request")
        cohort = db.session.get(Cohort, people)
        assert intake.preferences_for_cohort(cohort)["requests"] == [[str(ana), str(ben)]]
        withdrawal.withdraw(db.session.get(Participant, ben))
        assert intake.preferences_for_cohort(cohort) == {"requests": [], "declines": []}
        assert intake.browsable(me) == []
        with pytest.raises(intake.PreferenceError):
            intake.set_preference(db.session.get(Participant, ben), ana, "request")


def test_matching_pool_entry_shape(people, app):
    ben = fill(app, "ben")
    ana = fill(app, "ana", gender="self-described", gender_self_described="two-spirit", manager_name=" Maria  Schmidt",
               offers=["Negotiation", "Leadership"], offers_other="Budgeting, negotiation tactics",
               wants=["Data analysis"], wants_other=None, availability=["tue-14", "mon-08"])
    with app.app_context():
        entry = matchmaking.matching_pool_entry(db.session.get(Participant, ana))
        assert entry == {
            "id": str(ana), "gender": "self-described:two-spirit", "department": "Finance", "location": "Lisbon",
            "timezone": "Europe/Lisbon", "level": 3, "manager_id": "ext:maria schmidt",
            "offers": ["Negotiation", "Leadership", "Budgeting", "negotiation tactics"], "wants": ["Data analysis"],
            "availability": ["mon-08", "tue-14"], "previous_partners": [], "name": "Ana Costa"}
        p = db.session.get(Participant, ana)
        p.manager_participant_id, p.gender, p.timezone = ben, "undisclosed", None
        entry = matchmaking.matching_pool_entry(p)
        assert entry["manager_id"] == str(ben) and entry["gender"] == "undisclosed" and entry["timezone"] == "UTC"


def test_taxonomy_loads_and_reports_bad_files(tmp_path):
    assert len(taxonomy().skills) >= 25 and "Negotiation" in taxonomy()
    bad = tmp_path / "skills.yaml"
    bad.write_text("groups:\n  - name: A\n    skills: [X, x]\n")
    with pytest.raises(TaxonomyError, match="'x' appears more than once"):
        load_taxonomy(bad)
    bad.write_text("skills: [a]\n")
    with pytest.raises(TaxonomyError, match="expected a top-level 'groups:' list"):
        load_taxonomy(bad)
    bad.write_text("groups: [\n")
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(bad)
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "missing.yaml")
