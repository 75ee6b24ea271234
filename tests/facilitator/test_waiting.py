"""Nobody is left in a dead end: late joiners fill their intake and wait, the facilitator pairs people
who wait (by hand, or one joins a pair as a third member), and a learner whose partner left is told."""
from __future__ import annotations

from datetime import date

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage, Participant, Team
from lti_tool.services.notifications import PARTNER_LEFT_SUBJECT, PARTNER_SUBJECT
from tests.conftest import csrf_token_in, https_client
from tests.facilitator.test_dropouts import active_teams, enrol, ids_by_sub
from tests.lti_platform import Launcher


def publish(client, cid):
    page = client.get(f"/facilitator/cohorts/{cid}")
    run = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    review = client.get(run.headers["Location"])
    assert client.post(run.headers["Location"] + "/publish",
                       data={"csrf_token": csrf_token_in(review)}).status_code == 303


def published_lab(app, platform, lti, client):
    """Ana-Ben, Cleo-Dan and Eli-Fay published; the facilitator Tess is signed in on ``client``."""
    cid, learners = enrol(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    publish(client, cid)
    return cid, learners


def remove(client, cid, pid):
    confirm = client.get(f"/facilitator/cohorts/{cid}/participants/{pid}/remove")
    assert client.post(f"/facilitator/cohorts/{cid}/participants/{pid}/remove",
                       data={"csrf_token": csrf_token_in(confirm)}).status_code == 303


def late_joiner(app, platform, cid, sub="gus"):
    learner = Launcher(https_client(app), platform)
    learner(role="learner", sub=sub, name=sub.capitalize(), email=f"{sub}@example.com", custom={"cohort": "lab"})
    return learner.client


def submit_intake(learner, cid, gender="man", offers="negotiation", wants="python"):
    page = learner.get(f"/learner/cohorts/{cid}/intake")
    return learner.post(f"/learner/cohorts/{cid}/intake", data={
        "csrf_token": csrf_token_in(page), "gender": gender, "department": "Legal", "location": "Berlin",
        "timezone": "Europe/Berlin", "level": "3", "manager": "", "offers_other": offers, "wants_other": wants,
        "availability": ["tue-10"], "consent": "y", "submit_intake": "Submit intake"})


def mails_to(app, subject) -> list[str]:
    with app.app_context():
        return sorted(db.session.execute(db.select(OutboxMessage.recipient).where(
            OutboxMessage.subject == subject)).scalars())


def pair_by_hand(client, cid, person, **choice):
    preview = client.get(f"/facilitator/cohorts/{cid}/waiting/{person}/preview", query_string=choice)
    assert preview.status_code == 200
    token = csrf_token_in(client.get(f"/facilitator/cohorts/{cid}"))  # a refused team has no confirm form
    return preview, client.post(f"/facilitator/cohorts/{cid}/waiting/{person}/team",
                                data={"csrf_token": token, **choice})


def test_a_late_joiner_can_fill_in_the_intake_after_publishing(app, platform, lti, client):
    cid, _ = published_lab(app, platform, lti, client)
    gus = late_joiner(app, platform, cid)
    home = gus.get("/learner/").get_data(as_text=True)
    assert "Next step: Fill in your intake" in home and "already published" in home
    page = gus.get(f"/learner/cohorts/{cid}/intake").get_data(as_text=True)
    assert 'id="intake-form"' in page and "can no longer change" not in page
    submitted = submit_intake(gus, cid)
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith("/learner/")
    assert participant(app, "gus").intake_submitted_at is not None


def test_a_late_joiner_who_submitted_is_on_the_waiting_list_both_sides_see(app, platform, lti, client):
    cid, _ = published_lab(app, platform, lti, client)
    gus = late_joiner(app, platform, cid)
    assert "Joined after teams were published, intake not submitted yet: Gus" in \
        client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    submit_intake(gus, cid)
    home = gus.get("/learner/").get_data(as_text=True)
    assert "Next step: You&#39;re on the waiting list" in home and "your facilitator will pair you" in home
    page = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    assert "Waiting for a partner (1)" in page and "<strong>Gus</strong> — joined after teams were published" in page


def test_the_facilitator_pairs_two_waiting_people_and_they_are_told(app, platform, lti, client):
    cid, learners = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    remove(client, cid, ids["fay"])
    page = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    assert "Waiting for a partner (2)" in page and "their partner left" in page
    preview, formed = pair_by_hand(client, cid, ids["ana"], partner=ids["eli"])
    text = preview.get_data(as_text=True)
    assert "Ana, Eli as a pair." in text and "Email to ana@example.com:" in text and "Email to eli@example.com:" in text
    assert formed.status_code == 303
    assert frozenset({ids["ana"], ids["eli"]}) in active_teams(app)
    assert mails_to(app, PARTNER_SUBJECT).count("ana@example.com") == 2  # the publish, then her new partner
    home = learners["ana"].get("/learner/").get_data(as_text=True)
    assert "Your partner" in home and "Eli" in home and "waiting list" not in home
    assert "Waiting for a partner" not in client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)


def test_pairing_by_hand_with_the_queue_down_forms_no_team_and_sends_nothing(app, platform, lti, client):
    """The team used to be committed before the queue was asked: a 503 page, a team, no invites."""
    from tests.ops.helpers import free_port

    cid, _ = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    remove(client, cid, ids["fay"])
    teams_before, mails_before = active_teams(app), mails_to(app, PARTNER_SUBJECT)
    app.config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        _, formed = pair_by_hand(client, cid, ids["ana"], partner=ids["eli"])
    finally:
        app.config.update(REDIS_URL=None)
    assert formed.status_code == 503
    assert active_teams(app) == teams_before and mails_to(app, PARTNER_SUBJECT) == mails_before


def test_a_waiting_person_joins_a_pair_as_a_third_member(app, platform, lti, client):
    cid, learners = published_lab(app, platform, lti, client)
    gus = late_joiner(app, platform, cid)
    submit_intake(gus, cid)
    ids = ids_by_sub(app)
    cleo_dan = active_teams(app)[frozenset({ids["cleo"], ids["dan"]})]
    preview, formed = pair_by_hand(client, cid, ids["gus"], team=cleo_dan)
    assert "Cleo, Dan, Gus as a team of three" in preview.get_data(as_text=True)
    assert formed.status_code == 303
    with app.app_context():
        assert db.session.get(Team, cleo_dan).member_ids == [ids["cleo"], ids["dan"], ids["gus"]]
    assert "Your team" in gus.get("/learner/").get_data(as_text=True)
    assert "Gus" in learners["cleo"].get("/learner/").get_data(as_text=True)
    assert {"gus@example.com", "cleo@example.com", "dan@example.com"} <= set(mails_to(app, PARTNER_SUBJECT))


def test_a_hard_rule_refuses_the_team_by_name_and_nothing_changes(app, platform, lti, client):
    cid, _ = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    remove(client, cid, ids["fay"])
    with app.app_context():
        db.session.get(Cohort, cid).forbidden_pairs = [[ids["ana"], ids["eli"]]]
        db.session.commit()
    preview, refused = pair_by_hand(client, cid, ids["ana"], partner=ids["eli"])
    text = preview.get_data(as_text=True)
    assert "Ana and Eli cannot be a team: Ana and Eli are marked never to be paired." in text
    assert "Confirm" not in text
    assert refused.status_code == 303
    assert "cannot be a team" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert frozenset({ids["ana"], ids["eli"]}) not in active_teams(app)
    assert mails_to(app, PARTNER_SUBJECT).count("ana@example.com") == 1


def test_a_soft_rule_is_flagged_and_the_team_is_formed(app, platform, lti, client):
    cid, _ = published_lab(app, platform, lti, client)
    gus = late_joiner(app, platform, cid)
    submit_intake(gus, cid, offers="public speaking", wants="python")  # Ana wants data analysis, Gus offers none
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    preview, formed = pair_by_hand(client, cid, ids["ana"], partner=ids["gus"])
    text = preview.get_data(as_text=True)
    assert "Kept, but flagged" in text and "Ana gains nothing from Gus" in text
    assert formed.status_code == 303 and frozenset({ids["ana"], ids["gus"]}) in active_teams(app)


def test_the_one_person_left_after_a_removal_can_join_a_pair(app, platform, lti, client):
    cid, _ = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    page = client.get(f"/facilitator/cohorts/{cid}")
    body = page.get_data(as_text=True)
    assert "Waiting for a partner (1)" in body and "Add Ana as a third member to" in body
    rematch = client.post(f"/facilitator/cohorts/{cid}/rematch", data={"csrf_token": csrf_token_in(page)})
    review = client.get(rematch.headers["Location"]).get_data(as_text=True)
    assert "2 teams, 1 people unmatched" in review and "they stay on the waiting list" in review
    eli_fay = active_teams(app)[frozenset({ids["eli"], ids["fay"]})]
    assert pair_by_hand(client, cid, ids["ana"], team=eli_fay)[1].status_code == 303
    assert frozenset({ids["ana"], ids["eli"], ids["fay"]}) in active_teams(app)


def test_a_learner_whose_partner_left_is_told_by_email_and_on_their_home_page(app, platform, lti, client):
    cid, learners = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])  # the facilitator removes Ben
    form = learners["fay"].get(f"/learner/cohorts/{cid}/withdraw")  # Fay withdraws herself
    learners["fay"].post(f"/learner/cohorts/{cid}/withdraw", data={"csrf_token": csrf_token_in(form), "confirm": "y"})
    assert mails_to(app, PARTNER_LEFT_SUBJECT) == ["ana@example.com", "eli@example.com"]
    home = learners["ana"].get("/learner/").get_data(as_text=True)
    assert "Next step: Your partner has left the lab" in home and "on the waiting list" in home


def test_pairing_sends_the_follow_up_invites_when_the_lab_has_dates(app, platform, lti, client):
    cid, _ = published_lab(app, platform, lti, client)
    with app.app_context():
        cohort = db.session.get(Cohort, cid)
        cohort.day_one, cohort.day_two = date(2031, 3, 4), date(2031, 3, 5)
        db.session.commit()
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    remove(client, cid, ids["fay"])
    preview, formed = pair_by_hand(client, cid, ids["ana"], partner=ids["eli"])
    assert "Reciprocal mentoring: Ana &amp; Eli" in preview.get_data(as_text=True)
    assert formed.status_code == 303
    assert mails_to(app, "Invitation: Reciprocal mentoring: Ana & Eli") == ["ana@example.com", "eli@example.com"]


def test_only_a_facilitator_of_the_course_forms_teams_with_a_csrf_token(app, platform, lti, client):
    cid, learners = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    remove(client, cid, ids["fay"])
    url = f"/facilitator/cohorts/{cid}/waiting/{ids['ana']}"
    token = csrf_token_in(learners["ana"].get(f"/learner/cohorts/{cid}/intake"))
    assert learners["ana"].post(url + "/team", data={"csrf_token": token, "partner": ids["eli"]}).status_code == 403
    assert client.post(url + "/team", data={"partner": ids["eli"]}).status_code == 400
    assert client.get(url + "/preview", query_string={"partner": ids["cleo"]}).status_code == 404  # Cleo has a team
    assert client.get(f"/facilitator/cohorts/{cid}/waiting/{ids['cleo']}/preview",
                      query_string={"partner": ids["eli"]}).status_code == 404
    assert frozenset({ids["ana"], ids["eli"]}) not in active_teams(app)


def participant(app, sub) -> Participant:
    with app.app_context():
        p = db.session.execute(db.select(Participant).where(Participant.user.has(sub=sub))).scalar_one()
        db.session.expunge(p)
        return p
