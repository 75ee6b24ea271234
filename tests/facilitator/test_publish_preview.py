"""Publishing is deliberate: a preview of what each person receives, the counts, then a confirmation."""
from __future__ import annotations

from datetime import date, timedelta

from lti_tool.extensions import db
from lti_tool.models import Cohort, OutboxMessage, Team
from lti_tool.services.notifications import PARTNER_SUBJECT
from tests.conftest import csrf_token_in
from tests.facilitator.test_matching_flow import enrol_with_intake
from tests.scheduling.test_reads_are_pure import crawl


def outbox_kinds(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(db.select(OutboxMessage.kind)).scalars())


def test_publish_shows_what_each_person_receives_and_sends_only_on_confirm(app, platform, lti, client):
    """Reported: 'Publish these teams' sent every learner an email and 40 calendar invites at one click."""
    cid, _learners = enrol_with_intake(app, platform)
    with app.app_context():
        cohort = db.session.get(Cohort, cid)
        cohort.day_one = date.today() + timedelta(days=20)
        cohort.day_two = cohort.day_one + timedelta(days=1)
        cohort.venue = "Room 4"
        db.session.commit()
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cid}")
    run_url = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)}
                          ).headers["Location"]
    review = client.get(run_url).get_data(as_text=True)
    assert f'href="{run_url}/publish"' in review and "Publish these teams" in review
    assert f'action="{run_url}/publish"' not in review  # one click on the proposal no longer sends anything

    with app.app_context():  # the preview only reads: not one INSERT, UPDATE or DELETE
        assert crawl(client, run_url + "/publish", limit=1) == {run_url + "/publish": []}
    preview = client.get(run_url + "/publish")
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and outbox_kinds(app) == []
    assert "Emails about partners: 4" in body
    for name in ("Ana", "Ben", "Cleo", "Dan"):
        assert f"Email to {name.lower()}@example.com:" in body and f"Calendar invites for {name}" in body
    assert PARTNER_SUBJECT in body and "Ana offers negotiation, which Ben wants to learn" in body
    assert "day 1, morning" in body and "Reciprocal mentoring: " in body and "times" in body
    invites = int(body.split("Calendar invites: ")[1].split("<")[0])
    assert invites == 4 * 5  # four half-days of the lab and one follow-up series each
    assert "<caption>" in body and "Confirm: publish and send 4 emails and 20 invites" in body

    confirmed = client.post(run_url + "/publish", data={"csrf_token": csrf_token_in(preview)})
    assert confirmed.status_code == 303
    kinds = outbox_kinds(app)
    assert kinds.count("partner") == 4 and kinds.count("invite_request") == invites
    with app.app_context():
        assert len(db.session.execute(db.select(Team)).scalars().all()) == 2
    again = client.get(run_url + "/publish")
    assert again.status_code == 303 and "already published" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_preview_without_dates_lists_no_invites_and_learners_cannot_see_it(app, platform, lti, client):
    cid, learners = enrol_with_intake(app, platform)
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    page = client.get(f"/facilitator/cohorts/{cid}")
    run_url = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)}
                          ).headers["Location"]
    body = client.get(run_url + "/publish").get_data(as_text=True)
    assert "Emails about partners: 4" in body and "Calendar invites: 0" in body and "No calendar invites." in body
    assert outbox_kinds(app) == []
    assert learners["ana"].get(run_url + "/publish").status_code == 403
