"""Bad input gets a clear answer and changes nothing: autosave bodies, oversized launch claims, huge requests."""
from __future__ import annotations

import json

import pytest

from lti_tool.extensions import db
from lti_tool.models import Course, LtiUser, Reflection, UsedNonce
from tests.conftest import csrf_token_in
from tests.reflections.helpers import SESSION, cohort_id, lab_held, launch

CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"


@pytest.fixture
def draft(app, client, lti):
    """A learner with a saved draft; returns a function that posts a raw autosave body."""
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    url = f"/learner/cohorts/{cid}/reflections/{SESSION}/draft"
    token = csrf_token_in(client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}"))
    headers = {"X-CSRFToken": token, "Content-Type": "application/json"}
    saved = client.post(url, data=json.dumps({"answers": {"learned_from_partner": "kept"}}), headers=headers)
    assert saved.status_code == 200

    def post(body: str):
        return client.post(url, data=body, headers=headers)
    return post


def saved_answers(app):
    with app.app_context():
        return db.session.execute(db.select(Reflection.answers)).scalar_one()


@pytest.mark.parametrize("body", [
    "[1, 2, 3]",
    '"just a string"',
    "not json at all {",
    '{"answers": ["a", "b"]}',
    '{"answers": {"learned_from_partner": {"nested": true}}}',
    '{"answers": {"gain_self": true}}',
    '{"visibility": {"learned_from_partner": 5}}',
    '{"answers": "text"}',
    "[" * 100_000 + "]" * 100_000,
], ids=["list", "string", "broken", "answers-list", "answer-object", "answer-bool", "visibility-number",
        "answers-string", "deep-nesting"])
def test_malformed_autosave_is_a_400_and_keeps_the_draft(app, draft, body):
    response = draft(body)
    assert response.status_code == 400
    assert response.get_json()["message"]
    assert saved_answers(app) == {"learned_from_partner": "kept"}


def test_a_well_formed_autosave_still_saves(app, draft):
    assert draft(json.dumps({"answers": {"learned_from_partner": "new", "gain_self": 4}})).status_code == 200
    assert saved_answers(app) == {"learned_from_partner": "new", "gain_self": 4}


def counts(app):
    with app.app_context():
        return tuple(db.session.execute(db.select(db.func.count()).select_from(m)).scalar()
                     for m in (LtiUser, Course, UsedNonce))


@pytest.mark.parametrize("claims", [
    {"sub": "s" * 5000},
    {"extra": {CONTEXT: {"id": "c" * 5000, "title": "x"}}},
    {"name": "N" * 100_000},
    {"email": ["a@example.com", "b@example.com"]},
    {"extra": {CONTEXT: "a string, not an object"}},
    {"extra": {"https://purl.imsglobal.org/spec/lti/claim/roles": "Learner"}},
], ids=["long-sub", "long-context-id", "huge-name", "email-list", "context-string", "roles-string"])
def test_oversized_or_mistyped_launch_claims_get_the_launch_error_page(app, client, lti, claims):
    before = counts(app)
    response = lti(role="learner", **claims)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The LMS sent details the lab cannot accept" in text
    assert counts(app) == before  # nothing stored, not even the nonce


def test_a_50_mb_body_gets_a_413_page(client):
    response = client.post("/lti/launch", data={"id_token": "x" * (50 * 1024 * 1024), "state": "s"})
    assert response.status_code == 413
    assert "larger than the lab accepts" in response.get_data(as_text=True)
