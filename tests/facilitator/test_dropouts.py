"""Drop-outs after publishing: remove or withdraw, re-match only the people affected, approve, keep the rest."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import MatchRun, OutboxMessage, Participant, Team
from lti_tool.services.notifications import PARTNER_SUBJECT
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
            db.select(Team).where(Team.status == "active")).scalars()}


def test_dropouts_rematch_only_the_people_affected(app, platform, lti, client):
    cid, learners = enrol(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cid}")
    run = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    review = client.get(run.headers["Location"])
    assert client.post(run.headers["Location"] + "/publish",
                       data={"csrf_token": csrf_token_in(review)}).status_code == 303
    ids = ids_by_sub(app)
    before = active_teams(app)
    assert set(before) == {frozenset({ids["ana"], ids["ben"]}), frozenset({ids["cleo"], ids["dan"]}),
                           frozenset({ids["eli"], ids["fay"]})}
    assert "Drop-outs and new partners" not in client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)

    # The facilitator removes Ben (after a confirmation page); Fay withdraws herself.
    confirm = client.get(f"/facilitator/cohorts/{cid}/participants/{ids['ben']}/remove")
    assert "Remove Ben from" in confirm.get_data(as_text=True) and "in a published team" in confirm.get_data(as_text=True)
    removed = client.post(f"/facilitator/cohorts/{cid}/participants/{ids['ben']}/remove",
                          data={"csrf_token": csrf_token_in(confirm)})
    assert removed.status_code == 303
    form = learners["fay"].get(f"/learner/cohorts/{cid}/withdraw")
    assert learners["fay"].post(f"/learner/cohorts/{cid}/withdraw", data={
        "csrf_token": csrf_token_in(form), "confirm": "y"}).status_code in (302, 303)

    cohort_page = client.get(f"/facilitator/cohorts/{cid}")
    body = cohort_page.get_data(as_text=True)
    assert "Drop-outs and new partners" in body
    assert "Left after teams were published: Ben, Fay" in body and "Waiting for a partner (2)" in body
    assert "<strong>Ana</strong> — their partner left" in body and "<strong>Eli</strong> — their partner left" in body

    started = client.post(f"/facilitator/cohorts/{cid}/rematch", data={"csrf_token": csrf_token_in(cohort_page)})
    assert started.status_code == 303
    proposal = client.get(started.headers["Location"])
    text = proposal.get_data(as_text=True)
    assert "after drop-outs" in text and "1 teams stay exactly as they were" in text
    assert "New partners are proposed only for:" in text and "Ana, Eli." in text
    with app.app_context():
        rematch = db.session.get(MatchRun, int(started.headers["Location"].rstrip("/").split("/")[-1]))
        assert rematch.kind == "rematch" and rematch.status == "done"
        assert sorted(rematch.result["stats"]["changed"]) == sorted([str(ids["ana"]), str(ids["eli"])])

    with app.app_context():
        first_mail = db.session.execute(db.select(db.func.max(OutboxMessage.id))).scalar() or 0
    published = client.post(started.headers["Location"] + "/publish", data={"csrf_token": csrf_token_in(proposal)})
    assert published.status_code == 303
    assert "Re-match approved: 1 new teams" in client.get(published.headers["Location"]).get_data(as_text=True)
    after = active_teams(app)
    cleo_dan = frozenset({ids["cleo"], ids["dan"]})
    assert after[cleo_dan] == before[cleo_dan]  # the untouched team is the same team, not a copy
    assert set(after) == {cleo_dan, frozenset({ids["ana"], ids["eli"]})}
    with app.app_context():  # only the people in the new team are told; Cleo and Dan hear nothing
        told = db.session.execute(db.select(OutboxMessage.recipient).where(
            OutboxMessage.id > first_mail, OutboxMessage.subject == PARTNER_SUBJECT)).scalars().all()
    assert sorted(told) == ["ana@example.com", "eli@example.com"]
    home = learners["ana"].get("/learner/").get_data(as_text=True)
    assert "Your partner" in home and "Eli" in home and "Ben" not in home
    # Approved once: publishing again is refused, and nobody is waiting any more.
    assert client.post(started.headers["Location"] + "/publish",
                       data={"csrf_token": csrf_token_in(proposal)}).status_code == 409
    assert "Drop-outs and new partners" not in client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)


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
        assert db.session.get(Participant, ids["ben"]).status == "enrolled"
