"""Facilitator matching: propose, review with reasons, pin/forbid/swap with a re-run, publish; learners see partners."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage, Participant, Team
from lti_tool.services.notifications import PARTNER_SUBJECT
from lti_tool.states import TeamStatus
from tests.conftest import csrf_token_in, https_client, plain_text
from tests.lti_platform import Launcher

PROFILES = [
    ("ana", "woman", "Sales", ["negotiation"], ["data analysis"]),
    ("ben", "man", "IT", ["data analysis"], ["negotiation"]),
    ("cleo", "woman", "HR", ["coaching"], ["python"]),
    ("dan", "man", "IT", ["python"], ["coaching"]),
]


def shows_team(body: str, x: str, y: str) -> bool:
    return f"{x} &amp; {y}" in body or f"{y} &amp; {x}" in body


def enrol_with_intake(app, platform, profiles=PROFILES):
    """Every profile launches as a learner of the "lab" cohort and submits an intake; returns (cohort id, clients)."""
    clients = {}
    for sub, gender, dept, offers, wants in profiles:
        learner = Launcher(https_client(app), platform)
        learner(role="learner", sub=sub, name=sub.capitalize(), email=f"{sub}@example.com", custom={"cohort": "lab"})
        with app.app_context():
            cid = db.session.execute(db.select(Cohort.id).where(Cohort.slug == "lab")).scalar_one()
        page = learner.client.get(f"/learner/cohorts/{cid}/intake")
        response = learner.client.post(f"/learner/cohorts/{cid}/intake", data={
            "csrf_token": csrf_token_in(page), "gender": gender, "department": dept, "location": "Berlin",
            "timezone": "Europe/Berlin", "level": "3", "manager": "", "offers_other": ", ".join(offers),
            "wants_other": ", ".join(wants), "availability": ["tue-10"], "consent": "y",
            "submit_intake": "Submit intake"})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
        clients[sub] = learner.client
    return cid, clients


@dataclass
class Proposal:
    """Four learners with intakes, a facilitator signed in, and the first proposal on screen."""
    cid: int
    learners: dict
    ids: dict
    run_url: str
    page: object

    @property
    def body(self) -> str:
        return self.page.get_data(as_text=True)


@pytest.fixture
def proposal(app, platform, lti, client) -> Proposal:
    cid, learners = enrol_with_intake(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    started = client.post(f"/facilitator/cohorts/{cid}/match",
                          data={"csrf_token": csrf_token_in(client.get(f"/facilitator/cohorts/{cid}"))})
    assert started.status_code == 303
    with app.app_context():
        ids = {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}
    run_url = started.headers["Location"]
    return Proposal(cid, learners, ids, run_url, client.get(run_url))


def adjust(client, proposal: Proposal, **data):
    """Post one adjustment of the proposal on screen; returns the new proposal's page (after its redirect)."""
    response = client.post(proposal.run_url + "/adjust", data={"csrf_token": csrf_token_in(proposal.page), **data})
    assert response.status_code == 303
    return response.headers["Location"], client.get(response.headers["Location"])


def publish_a_fresh_proposal(app, client, cid: int):
    page = client.get(f"/facilitator/cohorts/{cid}")
    run = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    review = client.get(run.headers["Location"])
    return client.post(run.headers["Location"] + "/publish", data={"csrf_token": csrf_token_in(review)})


def test_cohort_page_counts_submitted_intakes(app, platform, lti, client):
    cid, _ = enrol_with_intake(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    assert "4 of 4 people have submitted" in client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)


def test_proposal_shows_teams_with_their_reasons(proposal):
    assert shows_team(proposal.body, "Ana", "Ben") and shows_team(proposal.body, "Cleo", "Dan")
    assert "Ana offers negotiation, which Ben wants to learn" in proposal.body


def test_a_swap_stands_and_flags_a_one_sided_team(client, proposal):
    # Swapping pins Ana-Dan and Cleo-Ben, but Dan offers nothing Ana wants: the facilitator's choice stands,
    # and the team is flagged with what to do about it.
    _, page = adjust(client, proposal, a=proposal.ids["ana"], b=proposal.ids["cleo"], action="swap")
    second = page.get_data(as_text=True)
    assert "The matcher could not run" not in second
    assert shows_team(second, "Ana", "Dan") and shows_team(second, "Ben", "Cleo")
    assert "Check:" in second and "add a skill or swap" in second


def test_a_swap_that_would_break_a_manager_line_is_refused_by_name_and_the_proposal_stays(app, client, proposal):
    with app.app_context():  # Ana manages Dan; a fresh proposal knows it (Ana-Ben and Cleo-Dan still)
        db.session.get(Participant, proposal.ids["dan"]).manager_participant_id = proposal.ids["ana"]
        db.session.commit()
    started = client.post(f"/facilitator/cohorts/{proposal.cid}/match", data={"csrf_token": csrf_token_in(proposal.page)})
    current = Proposal(proposal.cid, proposal.learners, proposal.ids, started.headers["Location"],
                       client.get(started.headers["Location"]))
    url, page = adjust(client, current, a=proposal.ids["ana"], b=proposal.ids["cleo"], action="swap")
    body = page.get_data(as_text=True)
    assert url == current.run_url  # no new (failed) proposal: the one on screen stays
    assert "Ana is Dan&#39;s manager" in body and "Nothing was changed" in body
    assert shows_team(body, "Ana", "Ben") and shows_team(body, "Cleo", "Dan")
    with app.app_context():
        assert db.session.get(Cohort, proposal.cid).pinned_pairs == []


def test_clearing_the_adjustments_brings_the_best_teams_back(client, proposal):
    swapped_url, swapped = adjust(client, proposal, a=proposal.ids["ana"], b=proposal.ids["cleo"], action="swap")
    _, cleared = adjust(client, Proposal(proposal.cid, proposal.learners, proposal.ids, swapped_url, swapped),
                        action="clear")
    assert shows_team(cleared.get_data(as_text=True), "Ana", "Ben")


def test_a_forbidden_pair_is_split_and_compared_with_the_proposal_before(client, proposal):
    _, page = adjust(client, proposal, a=proposal.ids["ana"], b=proposal.ids["ben"], action="forbid")
    third = page.get_data(as_text=True)
    assert not shows_team(third, "Ana", "Ben") and "Compared with proposal" in third


def test_publishing_makes_the_teams_and_learners_see_their_partner(app, client, proposal):
    assert publish_a_fresh_proposal(app, client, proposal.cid).status_code == 303
    with app.app_context():
        teams = db.session.execute(db.select(Team).where(Team.status == TeamStatus.ACTIVE)).scalars().all()
        assert len(teams) == 2 and all(t.pod == 1 for t in teams)
    home = proposal.learners["ana"].get("/learner/").get_data(as_text=True)
    assert "Your partner" in home and "Ben" in home and "You offer negotiation" in home  # spoken to the reader


def test_publishing_tells_everyone_by_email_with_the_reasons(app, client, proposal):
    publish_a_fresh_proposal(app, client, proposal.cid)
    with app.app_context():
        told = {m.recipient: m.body for m in db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.subject == PARTNER_SUBJECT)).scalars()}
    assert set(told) == {f"{sub}@example.com" for sub, *_ in PROFILES}
    ana_mail = plain_text(told["ana@example.com"])
    assert "teamed with Ben" in ana_mail and "Ana offers negotiation, which Ben wants to learn" in ana_mail


def test_publishing_closes_the_intake(app, client, proposal):
    ana = proposal.learners["ana"]
    ana_token = csrf_token_in(ana.get(f"/learner/cohorts/{proposal.cid}/intake"))  # before the intake closes
    publish_a_fresh_proposal(app, client, proposal.cid)
    assert ana.post(f"/learner/cohorts/{proposal.cid}/intake", data={
        "csrf_token": ana_token, "department": "X", "save_draft": "Save draft"}).status_code == 409


def test_learner_cannot_run_matching(app, platform, lti, client):
    cid, learners = enrol_with_intake(app, platform)
    token = csrf_token_in(learners["ana"].get(f"/learner/cohorts/{cid}/intake"))  # a valid token of the learner
    response = learners["ana"].post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": token})
    assert response.status_code == 403
