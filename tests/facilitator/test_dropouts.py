"""Drop-outs after publishing: remove or withdraw, re-match only the people affected, approve, keep the rest."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from lti_tool.extensions import db
from lti_tool.models import MatchRun, OutboxMessage, Participant, Team
from lti_tool.services.notifications import PARTNER_SUBJECT
from lti_tool.states import ParticipantStatus, RunKind, RunStatus, TeamStatus
from tests.conftest import csrf_token_in
from tests.facilitator.test_matching_flow import enrol_with_intake

# Ana-Ben, Fay-Eli and Cleo-Dan are the best teams (mixed departments); once Ben and Fay leave, Ana and Eli fit.
PROFILES = [
    ("ana", "woman", "Sales", ["negotiation"], ["data analysis"]),
    ("ben", "man", "IT", ["data analysis"], ["negotiation"]),
    ("cleo", "woman", "HR", ["coaching"], ["python"]),
    ("dan", "man", "IT", ["python"], ["coaching"]),
    ("eli", "man", "Sales", ["data analysis"], ["negotiation"]),
    ("fay", "woman", "IT", ["negotiation"], ["data analysis"]),
]


def enrol(app, platform):
    return enrol_with_intake(app, platform, PROFILES)


def ids_by_sub(app) -> dict[str, int]:
    with app.app_context():
        return {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}


def active_teams(app) -> dict[frozenset, int]:
    with app.app_context():
        return {frozenset(t.member_ids): t.id for t in db.session.execute(
            db.select(Team).where(Team.status == TeamStatus.ACTIVE)).scalars()}


@dataclass
class Lab:
    cid: int
    learners: dict
    ids: dict
    before: dict  # the published teams


@pytest.fixture
def published(app, platform, lti, client) -> Lab:
    """Six learners in three published teams, a facilitator signed in."""
    cid, learners = enrol(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cid}")
    run = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    review = client.get(run.headers["Location"])
    assert client.post(run.headers["Location"] + "/publish",
                       data={"csrf_token": csrf_token_in(review)}).status_code == 303
    return Lab(cid, learners, ids_by_sub(app), active_teams(app))


@pytest.fixture
def two_left(client, published) -> Lab:
    """The facilitator removed Ben (after a confirmation page); Fay withdrew herself."""
    cid, ids = published.cid, published.ids
    confirm = client.get(f"/facilitator/cohorts/{cid}/participants/{ids['ben']}/remove")
    assert "Remove Ben from" in confirm.get_data(as_text=True) and "in a published team" in confirm.get_data(as_text=True)
    assert client.post(f"/facilitator/cohorts/{cid}/participants/{ids['ben']}/remove",
                       data={"csrf_token": csrf_token_in(confirm)}).status_code == 303
    fay = published.learners["fay"]
    form = fay.get(f"/learner/cohorts/{cid}/withdraw")
    assert fay.post(f"/learner/cohorts/{cid}/withdraw", data={
        "csrf_token": csrf_token_in(form), "confirm": "y"}).status_code in (302, 303)
    return published


@pytest.fixture
def rematch(client, two_left):
    """The facilitator asked for a re-match of the people affected; (its url, its page)."""
    page = client.get(f"/facilitator/cohorts/{two_left.cid}")
    started = client.post(f"/facilitator/cohorts/{two_left.cid}/rematch", data={"csrf_token": csrf_token_in(page)})
    assert started.status_code == 303
    return started.headers["Location"], client.get(started.headers["Location"])


def test_publishing_makes_the_best_teams_and_no_drop_outs_are_shown(client, published):
    ids = published.ids
    assert set(published.before) == {frozenset({ids["ana"], ids["ben"]}), frozenset({ids["cleo"], ids["dan"]}),
                                     frozenset({ids["eli"], ids["fay"]})}
    assert "Drop-outs and new partners" not in client.get(f"/facilitator/cohorts/{published.cid}").get_data(
        as_text=True)


def test_the_cohort_page_shows_who_left_and_who_waits(client, two_left):
    body = client.get(f"/facilitator/cohorts/{two_left.cid}").get_data(as_text=True)
    assert "Drop-outs and new partners" in body
    assert "Left after teams were published: Ben, Fay" in body and "Waiting for a partner (2)" in body
    assert "<strong>Ana</strong> — their partner left" in body and "<strong>Eli</strong> — their partner left" in body


def test_a_rematch_proposes_new_partners_only_for_the_people_affected(app, two_left, rematch):
    url, page = rematch
    text = page.get_data(as_text=True)
    assert "after drop-outs" in text and "1 teams stay exactly as they were" in text
    assert "New partners are proposed only for:" in text and "Ana, Eli." in text
    with app.app_context():
        run = db.session.get(MatchRun, int(url.rstrip("/").split("/")[-1]))
        assert run.kind == RunKind.REMATCH and run.status == RunStatus.DONE
        assert sorted(run.result["stats"]["changed"]) == sorted([str(two_left.ids["ana"]), str(two_left.ids["eli"])])


def test_approving_a_rematch_keeps_the_untouched_team_and_tells_only_the_new_one(app, client, two_left, rematch):
    url, page = rematch
    ids = two_left.ids
    with app.app_context():
        first_mail = db.session.execute(db.select(db.func.max(OutboxMessage.id))).scalar() or 0
    published = client.post(url + "/publish", data={"csrf_token": csrf_token_in(page)})
    assert published.status_code == 303
    assert "Re-match approved: 1 new teams" in client.get(published.headers["Location"]).get_data(as_text=True)
    after = active_teams(app)
    cleo_dan = frozenset({ids["cleo"], ids["dan"]})
    assert after[cleo_dan] == two_left.before[cleo_dan]  # the untouched team is the same team, not a copy
    assert set(after) == {cleo_dan, frozenset({ids["ana"], ids["eli"]})}
    with app.app_context():  # only the people in the new team are told; Cleo and Dan hear nothing
        told = db.session.execute(db.select(OutboxMessage.recipient).where(
            OutboxMessage.id > first_mail, OutboxMessage.subject == PARTNER_SUBJECT)).scalars().all()
    assert sorted(told) == ["ana@example.com", "eli@example.com"]
    home = two_left.learners["ana"].get("/learner/").get_data(as_text=True)
    assert "Your partner" in home and "Eli" in home and "Ben" not in home


def test_a_rematch_is_approved_once_and_then_nobody_waits(client, two_left, rematch):
    url, page = rematch
    assert client.post(url + "/publish", data={"csrf_token": csrf_token_in(page)}).status_code == 303
    assert client.post(url + "/publish", data={"csrf_token": csrf_token_in(page)}).status_code == 409
    assert "Drop-outs and new partners" not in client.get(f"/facilitator/cohorts/{two_left.cid}").get_data(
        as_text=True)


def test_learner_cannot_remove_or_rematch(app, platform, lti, client):
    cid, learners = enrol(app, platform)
    ids = ids_by_sub(app)
    token = csrf_token_in(learners["ana"].get(f"/learner/cohorts/{cid}/intake"))
    assert learners["ana"].post(f"/facilitator/cohorts/{cid}/rematch", data={"csrf_token": token}).status_code == 403
    assert learners["ana"].post(f"/facilitator/cohorts/{cid}/participants/{ids['ben']}/remove",
                                data={"csrf_token": token}).status_code == 403


def test_remove_is_scoped_to_the_cohort_and_needs_csrf(app, platform, lti, client):
    cid, _ = enrol(app, platform)
    ids = ids_by_sub(app)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    assert client.get(f"/facilitator/cohorts/{cid}/participants/999999/remove").status_code == 404
    assert client.post(f"/facilitator/cohorts/{cid}/participants/{ids['ben']}/remove").status_code == 400  # no CSRF token
    with app.app_context():
        assert db.session.get(Participant, ids["ben"]).status == ParticipantStatus.ENROLLED
