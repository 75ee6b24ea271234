"""Facilitator matching: propose, review with reasons, pin/forbid/swap with a re-run, publish; learners see partners."""
from __future__ import annotations


from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage, Participant, Team
from lti_tool.services.notifications import PARTNER_SUBJECT
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


def test_propose_adjust_publish_and_learners_see_partner(app, platform, lti, client):
    cid, learners = enrol_with_intake(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cid}")
    assert "4 of 4 people have submitted" in page.get_data(as_text=True)
    started = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    assert started.status_code == 303
    review = client.get(started.headers["Location"])
    body = review.get_data(as_text=True)
    assert shows_team(body, "Ana", "Ben") and shows_team(body, "Cleo", "Dan")
    assert "Ana offers negotiation, which Ben wants to learn" in body

    with app.app_context():
        ids = {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}
    run_url = started.headers["Location"]
    swapped = client.post(run_url + "/adjust", data={"csrf_token": csrf_token_in(review), "a": ids["ana"],
                                                     "b": ids["cleo"], "action": "swap"})
    assert swapped.status_code == 303
    second_page = client.get(swapped.headers["Location"])
    second = second_page.get_data(as_text=True)
    # Swapping pins Ana-Dan and Cleo-Ben, but Dan offers nothing Ana wants: the facilitator's choice stands,
    # and the team is flagged with what to do about it.
    assert "The matcher could not run" not in second
    assert shows_team(second, "Ana", "Dan") and shows_team(second, "Ben", "Cleo")
    assert "Check:" in second and "add a skill or swap" in second
    cleared = client.post(swapped.headers["Location"] + "/adjust", data={"csrf_token": csrf_token_in(second_page),
                                                                         "action": "clear"})
    assert shows_team(client.get(cleared.headers["Location"]).get_data(as_text=True), "Ana", "Ben")

    forbid_page = client.get(run_url)
    forbidden = client.post(run_url + "/adjust", data={"csrf_token": csrf_token_in(forbid_page), "a": ids["ana"],
                                                       "b": ids["ben"], "action": "forbid"})
    third_url = forbidden.headers["Location"]
    third = client.get(third_url).get_data(as_text=True)
    assert not shows_team(third, "Ana", "Ben") and "Compared with proposal" in third

    with app.app_context():
        db.session.get(Cohort, cid).forbidden_pairs = []
        db.session.commit()
    ana_token = csrf_token_in(learners["ana"].get(f"/learner/cohorts/{cid}/intake"))  # before the intake closes
    final_page = client.get(f"/facilitator/cohorts/{cid}")
    final = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(final_page)})
    final_review = client.get(final.headers["Location"])
    published = client.post(final.headers["Location"] + "/publish", data={"csrf_token": csrf_token_in(final_review)})
    assert published.status_code == 303
    with app.app_context():
        teams = db.session.execute(db.select(Team).where(Team.status == "active")).scalars().all()
        assert len(teams) == 2 and all(t.pod == 1 for t in teams)
    home = learners["ana"].get("/learner/").get_data(as_text=True)
    assert "Your partner" in home and "Ben" in home and "You offer negotiation" in home  # spoken to the reader
    with app.app_context():  # publishing told everyone by email, with the reasons
        told = {m.recipient: m.body for m in db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.subject == PARTNER_SUBJECT)).scalars()}
    assert set(told) == {f"{sub}@example.com" for sub, *_ in PROFILES}
    ana_mail = plain_text(told["ana@example.com"])
    assert "teamed with Ben" in ana_mail and "Ana offers negotiation, which Ben wants to learn" in ana_mail
    assert learners["ana"].post(f"/learner/cohorts/{cid}/intake", data={
        "csrf_token": ana_token, "department": "X",
        "save_draft": "Save draft"}).status_code == 409  # published: the intake is closed


def test_learner_cannot_run_matching(app, platform, lti, client):
    cid, learners = enrol_with_intake(app, platform)
    token = csrf_token_in(learners["ana"].get(f"/learner/cohorts/{cid}/intake"))  # a valid token of the learner
    response = learners["ana"].post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": token})
    assert response.status_code == 403
