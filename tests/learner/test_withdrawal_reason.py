"""Leaving the lab takes an optional reason: stored on the person's row, only ever counted."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import Cohort
from lti_tool.services import check_ins
from tests.conftest import csrf_token_in
from tests.learner.conftest import participant_of


def _withdraw(client, cohort_id, **data):
    page = client.get(f"/learner/cohorts/{cohort_id}/withdraw")
    return client.post(f"/learner/cohorts/{cohort_id}/withdraw", data={"csrf_token": csrf_token_in(page), **data})


def test_the_withdraw_page_offers_reasons_and_saying_nothing(people, client):
    html = client.get(f"/learner/cohorts/{people}/withdraw").get_data(as_text=True)
    assert "Why are you leaving? (optional)" in html
    assert 'value="time"' in html and "I prefer not to say" in html


def test_a_reason_given_is_stored(people, client, app):
    assert _withdraw(client, people, reason="time").status_code == 302
    p = participant_of(app, "ana")
    assert (p.status, p.withdrawal_reason) == ("withdrawn", "time")


def test_no_reason_is_fine(people, client, app):
    assert _withdraw(client, people, reason="").status_code == 302
    p = participant_of(app, "ana")
    assert (p.status, p.withdrawal_reason) == ("withdrawn", None)


def test_an_unknown_reason_is_refused_and_nothing_changes(people, client, app):
    assert _withdraw(client, people, reason="bored-of-it").status_code == 200
    p = participant_of(app, "ana")
    assert (p.status, p.withdrawal_reason) == ("enrolled", None)


def _as(lti, sub):
    lti(role="learner", sub=sub, name=sub.capitalize(), email=f"{sub}@example.com", custom={"cohort": "spring"})


def test_reasons_are_counted_per_cohort(people, lti, client, app):
    for sub in ("ben", "chloe", "ana"):
        _as(lti, sub)
        _withdraw(client, people, reason="time" if sub != "chloe" else "job")
    with app.app_context():
        counts = check_ins.withdrawal_reasons([people])
    assert counts == {"time": 2, "job": 1, "personal": 0, "expectations": 0, "partner": 0, "other": 0}


def test_the_facilitator_sees_reason_counts_only_from_the_small_group_size(people, lti, app, client):
    for sub in ("ben", "chloe"):
        _as(lti, sub)
        _withdraw(client, people, reason="partner")
    lti(role="instructor", sub="fran", name="Fran", email="fran@example.com", custom={"cohort": "spring"})
    with app.app_context():
        name = db.session.get(Cohort, people).name
    page = client.get(f"/facilitator/cohorts/{people}/check-ins").get_data(as_text=True)
    assert name in page and "Reasons are shown once at least 5 people have given one" in page
    assert "The pairing did not work for me: 2" not in page
    app.config["MIN_GROUP_SIZE"] = 2
    try:
        page = client.get(f"/facilitator/cohorts/{people}/check-ins").get_data(as_text=True)
    finally:
        app.config["MIN_GROUP_SIZE"] = 5
    assert "The pairing did not work for me: 2" in page
    assert "Ben" not in page and "Chlo" not in page  # counts, never who


def test_a_lab_that_has_ended_is_not_offered_for_leaving(people, client, app):
    """Once a cohort's lab and follow-ups are over there is nothing to leave: "Your data" offers only the
    download and deletion, and the leave page says so instead of withdrawing the person after the fact."""
    from datetime import date, timedelta

    with app.app_context():
        cohort = db.session.get(Cohort, people)
        cohort.day_one, cohort.day_two = date.today() - timedelta(days=400), date.today() - timedelta(days=399)
        name = cohort.name
        db.session.commit()
    page = client.get("/learner/my-data").get_data(as_text=True)
    assert f"Leave {name}" not in page and "Delete my data" in page
    assert f"{name} has ended" in page
    assert client.get(f"/learner/cohorts/{people}/withdraw").headers["Location"].endswith("/learner/my-data")
    token = csrf_token_in(client.get("/learner/my-data/delete"))
    posted = client.post(f"/learner/cohorts/{people}/withdraw", data={"csrf_token": token, "reason": "time"})
    assert posted.status_code == 302
    assert participant_of(app, "ana").status == "enrolled"


def test_a_lab_still_running_is_offered_for_leaving(people, client, app):
    from datetime import date, timedelta

    with app.app_context():
        cohort = db.session.get(Cohort, people)
        cohort.day_one, cohort.day_two = date.today() + timedelta(days=1), date.today() + timedelta(days=2)
        name = cohort.name
        db.session.commit()
    assert f"Leave {name}" in client.get("/learner/my-data").get_data(as_text=True)
