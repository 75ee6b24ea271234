"""Intake: drafts (form and autosave), submit with validation that keeps input, read-only after publishing."""
from __future__ import annotations

import re

from lti_tool.extensions import db
from lti_tool.models import Cohort, MatchRun, Participant, Team
from tests.conftest import csrf_token_in
from tests.learner.conftest import participant_of


def form_data(token, **over):
    data = {"csrf_token": token, "gender": "self-described", "gender_self_described": "genderfluid",
            "department": "Finance", "location": "Lisbon", "timezone": "Europe/Lisbon", "level": "3",
            "manager": "", "manager_name": "Maria  Schmidt", "offers": ["Negotiation", "Leadership"],
            "offers_order": "Negotiation|Leadership", "offers_other": "Budgeting, Pricing",
            "wants": ["Data analysis"], "wants_order": "", "wants_other": "", "goals": "Speak up more",
            "availability": ["tue-14", "mon-08"], "consent": "y", "visible": ["department", "offers"]}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_intake_page_is_accessible_markup(people, client):
    page = client.get(f"/learner/cohorts/{people}/intake")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<legend>Gender identity <span class="required">(required)</span></legend>' in html
    assert "<legend>Leadership</legend>" in html
    assert 'value="tue-14" id="slot-tue-14"' in html and '<th scope="col" id="day-tue"><span class="short" aria-hidden="true">Tue</span><span class="long">Tuesday</span></th>' in html
    assert re.search(r'<input [^>]*id="timezone" [^>]*value="UTC">', html)  # the cohort's time zone by default
    assert 'role="status"' in html and "intake.js" in html


def test_save_draft_without_required_fields(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    r = client.post(f"/learner/cohorts/{people}/intake",
                    data={"csrf_token": token, "department": "Sales", "save_draft": "Save draft"})
    assert r.status_code == 302
    p = participant_of(app, "ana")
    assert p.department == "Sales" and p.intake_submitted_at is None and p.intake_updated_at is not None
    assert "Sales" in client.get(f"/learner/cohorts/{people}/intake").get_data(as_text=True)


def test_submit_missing_fields_shows_errors_and_keeps_input(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    r = client.post(f"/learner/cohorts/{people}/intake", data=form_data(
        token, department="", consent=None, goals="I typed this", submit_intake="Submit intake"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'class="error-summary" role="alert"' in html
    assert 'id="department-error"' in html and "Enter your department." in html
    assert 'aria-invalid="true"' in html and "You need to agree before submitting." in html
    assert "I typed this" in html and "genderfluid" in html and 'value="tue-14" id="slot-tue-14" checked' in html
    p = participant_of(app, "ana")
    assert p.intake_submitted_at is None and p.goals == "I typed this"  # kept as a draft


def test_submit_complete_intake(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    r = client.post(f"/learner/cohorts/{people}/intake", data=form_data(token, submit_intake="Submit intake"))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/learner/cohorts/{people}/people")
    p = participant_of(app, "ana")
    assert p.intake_submitted_at is not None
    assert p.gender == "self-described" and p.gender_self_described == "genderfluid" and p.level == 3
    assert p.offers == ["Negotiation", "Leadership"]  # order of selection kept
    assert p.availability == ["mon-08", "tue-14"] and p.visible_fields == ["department", "offers"]
    assert p.manager_name == "Maria  Schmidt" and p.manager_participant_id is None


def test_bad_choices_are_refused(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    r = client.post(f"/learner/cohorts/{people}/intake", data=form_data(
        token, timezone="Mars/Olympus", offers=["Juggling"], availability=["sun-03"], save_draft="Save draft"))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Not a valid choice" in html
    assert participant_of(app, "ana").intake_updated_at is None


def test_autosave_needs_csrf_header_and_saves(people, client, app):
    page = client.get(f"/learner/cohorts/{people}/intake")
    token = csrf_token_in(page)
    data = form_data(token)
    del data["csrf_token"]
    refused = client.post(f"/learner/cohorts/{people}/intake/draft", data=data)
    assert refused.status_code == 400
    ok = client.post(f"/learner/cohorts/{people}/intake/draft", data=data, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.json["saved"] is True and ok.json["message"] == "Saved"
    p = participant_of(app, "ana")
    assert p.goals == "Speak up more" and p.intake_submitted_at is None
    bad = client.post(f"/learner/cohorts/{people}/intake/draft", data={**data, "level": "9"},
                      headers={"X-CSRFToken": token})
    assert bad.status_code == 422 and "level" in bad.json["errors"]


def test_read_only_once_in_a_published_team(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    with app.app_context():
        run = MatchRun(cohort_id=people, status="done")
        db.session.add(run)
        db.session.flush()
        db.session.get(Cohort, people).published_run_id = run.id
        db.session.add(Team(cohort_id=people, member_ids=[participant_of(app, "ana").id, participant_of(app, "ben").id]))
        db.session.commit()
    page = client.get(f"/learner/cohorts/{people}/intake").get_data(as_text=True)
    assert "can no longer change" in page and 'id="intake-form"' not in page
    r = client.post(f"/learner/cohorts/{people}/intake", data=form_data(token, save_draft="Save draft"))
    assert r.status_code == 409
    r = client.post(f"/learner/cohorts/{people}/intake/draft", data=form_data(token),
                    headers={"X-CSRFToken": token})
    assert r.status_code == 409
    with app.app_context():
        assert db.session.get(Participant, participant_of(app, "ana").id).department is None


def test_a_submitted_intake_edited_into_gaps_goes_back_to_draft(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    client.post(f"/learner/cohorts/{people}/intake", data=form_data(token, submit_intake="Submit intake"))
    assert participant_of(app, "ana").intake_submitted_at is not None
    r = client.post(f"/learner/cohorts/{people}/intake/draft", data=form_data(token, goals="changed"),
                    headers={"X-CSRFToken": token})
    assert r.json["saved"] and participant_of(app, "ana").intake_submitted_at is not None  # still complete
    client.post(f"/learner/cohorts/{people}/intake/draft", data=form_data(token, department=""),
                headers={"X-CSRFToken": token})
    p = participant_of(app, "ana")
    assert p.department is None and p.intake_submitted_at is None
    assert "Status: draft, not submitted yet." in client.get(f"/learner/cohorts/{people}/intake").get_data(as_text=True)
