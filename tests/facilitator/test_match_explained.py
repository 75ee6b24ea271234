"""The matching page explains itself: quality bands, requests and declines with why, pairs by name,
proposals numbered per cohort, and a plain sentence for an empty cohort."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import Cohort, Participant, PartnerPreference
from tests.conftest import csrf_token_in, https_client
from tests.facilitator.test_matching_flow import enrol_with_intake
from tests.lti_platform import Launcher


def propose(client, cid) -> str:
    page = client.get(f"/facilitator/cohorts/{cid}")
    return client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)}).headers["Location"]


def test_proposal_in_words(app, platform, lti, client):
    cid, _learners = enrol_with_intake(app, platform)
    with app.app_context():
        ids = {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}
        db.session.add_all([
            PartnerPreference(cohort_id=cid, from_participant_id=ids["ana"], to_participant_id=ids["ben"], kind="request"),
            PartnerPreference(cohort_id=cid, from_participant_id=ids["cleo"], to_participant_id=ids["ben"],
                              kind="request"),
            PartnerPreference(cohort_id=cid, from_participant_id=ids["dan"], to_participant_id=ids["ana"], kind="decline"),
        ])
        db.session.commit()
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    first_url = propose(client, cid)
    review = client.get(first_url)
    body = review.get_data(as_text=True)
    assert "<h1>Matching proposal 1</h1>" in body
    assert "Quality: 2 strong, 0 good, 0 weak." in body and "at least half of what they want" in body
    assert "<td>strong</td>" in body and "0.67" not in body and "Total value" not in body
    assert "Share of what each wants to learn" in body and "Ana: 100%" in body
    table = body.split("Requests and declines")[1]
    assert "<caption>What people asked for" in table
    assert "to work with Ben</td>" in table and "not to work with Ana</td>" in table
    cleo_row = table.split("<th scope=\"row\">Cleo</th>")[1].split("</tr>")[0]
    assert "<td>no</td>" in cleo_row and "the pair would give neither side anything" in cleo_row
    ana_row = table.split("<th scope=\"row\">Ana</th>")[1].split("</tr>")[0]
    assert "<td>yes</td>" in ana_row

    forbidden = client.post(first_url + "/adjust", data={"csrf_token": csrf_token_in(review), "a": ids["cleo"],
                                                         "b": ids["dan"], "action": "forbid"})
    second = client.get(forbidden.headers["Location"]).get_data(as_text=True)
    assert "<h1>Matching proposal 2</h1>" in second and "Compared with proposal 1:" in second
    assert "Forbidden: Cleo never with Dan" in second
    assert "Quality: 1 strong" in second and "Not matched" in second  # Cleo and Dan: nobody left for them


def test_quality_bands_follow_the_smaller_gain_and_flags():
    from lti_tool.services.matchmaking import quality_band

    assert quality_band({"gains": {"1": 1.0, "2": 0.5}}) == "strong"
    assert quality_band({"gains": {"1": 1.0, "2": 0.3}}) == "good"
    assert quality_band({"gains": {"1": 0.9, "2": 0.1}}) == "weak"
    assert quality_band({"gain_a": 0.8, "gain_b": 0.7, "flags": [{"message": "x"}]}) == "weak"


def test_proposals_are_numbered_per_cohort_and_an_empty_cohort_gets_a_sentence(app, platform, lti, client):
    cid, _learners = enrol_with_intake(app, platform)
    Launcher(https_client(app), platform)(role="learner", sub="zed", name="Zed", email="zed@example.com",
                                          custom={"cohort": "empty"})
    with app.app_context():
        empty = db.session.execute(db.select(Cohort.id).where(Cohort.slug == "empty")).scalar_one()
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    propose(client, cid)
    body = client.get(propose(client, empty)).get_data(as_text=True)
    assert "<h1>Matching proposal 1</h1>" in body  # the first of this cohort, whatever ran elsewhere
    assert "There is no one to match yet" in body
    assert "pool" not in body.lower() and "participants" not in body and "Total value" not in body
