"""A learner downloads everything held about them and deletes it; aggregates stay consistent."""
from __future__ import annotations

import json

import pytest

from tests.conftest import csrf_token_in
from tests.reflections.helpers import cohort_id, lab_held, launch, make_team, reflect


@pytest.fixture
def ana_reflected(app, client, lti) -> int:
    """Ana (signed in) and Bea are a team; Ana submitted a reflection, sharing one answer. The cohort id."""
    launch(lti, "bea")
    launch(lti, "ana")
    cid = cohort_id(app)
    make_team(app, "ana", "bea")
    lab_held(app)
    reflect(client, cid, learned_from_partner="MY-TEXT", gain_self="5", gain_partner="4")
    return cid


def delete_my_data(client):
    page = client.get("/learner/my-data/delete")
    return client.post("/learner/my-data/delete", data={"csrf_token": csrf_token_in(page), "confirm": "yes"})


def test_the_download_is_a_json_file_in_labelled_sections(client, ana_reflected):
    download = client.get("/learner/my-data.json")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.get_data(as_text=True))
    assert data["Profile"]["Your id in your learning platform"] == "ana"
    (answer,) = [a for a in data["Reflections"][0]["Answers"] if a["Your answer"] == "MY-TEXT"]
    assert answer["Who may read it"] == "your partner and the facilitator"
    assert data["Teams"][0]["Partners"] == ["Person bea"]


def test_deleting_needs_the_confirmation(client, ana_reflected):
    page = client.get("/learner/my-data/delete")
    assert client.post("/learner/my-data/delete", data={"csrf_token": csrf_token_in(page)}).status_code == 422
    assert client.get("/learner/").status_code == 200


def test_deleting_removes_the_person_and_ends_the_session(app, client, ana_reflected):
    from lti_tool.extensions import db
    from lti_tool.models import LtiUser, Participant, Reflection, Team

    done = delete_my_data(client)
    assert done.status_code == 200 and "Your data was deleted" in done.get_data(as_text=True)
    assert client.get("/learner/").status_code == 401  # the session is gone too
    with app.app_context():
        assert db.session.execute(db.select(LtiUser).where(LtiUser.sub == "ana")).first() is None
        assert len(db.session.execute(db.select(Participant)).scalars().all()) == 1
        assert db.session.execute(db.select(Reflection)).first() is None
        assert len(db.session.execute(db.select(Team)).scalar_one().member_ids) == 1


def test_deleting_keeps_the_ratings_anonymous_and_counted(app, client, ana_reflected):
    from lti_tool.extensions import db
    from lti_tool.models import AnonymousRating, LtiUser
    from lti_tool.services import insights

    with app.app_context():
        deployment_id = db.session.execute(db.select(LtiUser)).scalars().first().platform.deployments[0].id
    delete_my_data(client)
    with app.app_context():
        anon = db.session.execute(db.select(AnonymousRating)).scalar_one()
        assert (anon.gain_self, anon.gain_partner, anon.cohort_id) == (5, 4, ana_reflected)
        assert not hasattr(anon, "participant_id")
        app.config["MIN_GROUP_SIZE"] = 1  # the ratings still count (overall), though the person is gone
        try:
            after = insights.compute(deployment_id, insights.Filters())["tables"]["overview"]
        finally:
            app.config["MIN_GROUP_SIZE"] = 5
    values = dict(after.rows)
    assert values["Own gain reported (mean 1-5)"] == 5.0 and values["People"] == 1
