"""Learner intake: drafts, submission rules, isolation, read-only after publishing."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import Cohort, Participant
from tests.conftest import csrf_token_in


def cohort_id(app, slug="spring"):
    with app.app_context():
        return db.session.execute(db.select(Cohort.id).where(Cohort.slug == slug)).scalar_one()


def intake_data(page, **changes):
    data = {"csrf_token": csrf_token_in(page), "gender": "woman", "department": "Sales", "location": "Lisbon",
            "timezone": "Europe/Lisbon", "level": "3", "manager": "", "offers": ["negotiation", "coaching"],
            "wants": ["data analysis"], "availability": ["tue-10", "thu-14"], "consent": "y",
            "visible_fields": ["department", "offers"], "submit_intake": "Submit my profile"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_draft_then_submit(lti, client, app):
    lti(role="learner", custom={"cohort": "spring"})
    cid = cohort_id(app)
    url = f"/learner/cohorts/{cid}/intake"
    page = client.get(url)
    assert page.status_code == 200 and "My profile for Spring" in page.get_data(as_text=True)
    draft = client.post(url, data={"csrf_token": csrf_token_in(page), "department": "Sales", "save_draft": "Save draft"})
    assert draft.status_code == 303
    with app.app_context():
        p = db.session.execute(db.select(Participant)).scalar_one()
        assert p.department == "Sales" and p.intake_submitted_at is None and p.intake_updated_at is not None
    incomplete = client.post(url, data=intake_data(page, consent=None, availability=None, wants=None))
    body = incomplete.get_data(as_text=True)
    assert incomplete.status_code == 422
    assert "We can only match you with your agreement." in body and "Mark at least one free hour." in body
    assert 'value="Lisbon"' in body  # nothing typed is lost
    done = client.post(url, data=intake_data(page))
    assert done.status_code == 303
    with app.app_context():
        p = db.session.execute(db.select(Participant)).scalar_one()
        assert p.intake_complete and p.offers == ["negotiation", "coaching"] and p.availability == ["tue-10", "thu-14"]
    assert "submitted" in client.get("/learner/").get_data(as_text=True)


def test_learner_cannot_open_another_cohorts_intake(lti, client, app):
    lti(role="learner", custom={"cohort": "spring"}, sub="a")
    lti(role="learner", custom={"cohort": "autumn"}, sub="b", context_id="course-2")
    assert client.get(f"/learner/cohorts/{cohort_id(app, 'spring')}/intake").status_code == 404
    assert client.get(f"/learner/cohorts/{cohort_id(app, 'autumn')}/intake").status_code == 200
