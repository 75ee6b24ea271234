"""Reflections: one per half day, open once that part of the lab has happened; drafts, submit, edit
window, and the visibility rules (one service decides)."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import csrf_token_in
from tests.reflections.helpers import SESSION, cohort_id, lab_held, launch, make_team, participant_id, reflect


def test_learner_submits_a_reflection_and_sees_it_listed(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    page = client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}")
    html = page.get_data(as_text=True)
    assert "The most unexpected thing my partner knows" in html  # the curriculum's prompt for this half day
    assert "default: My partner (and the facilitator)" in html  # defaults stated on the form
    response = reflect(client, cid, learned_from_partner="How to read a P&L", gain_self="4", gain_partner="3")
    assert response.status_code == 303
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "Submitted (you can edit until" in listing


def test_submit_requires_ratings_in_scale_but_drafts_do_not(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    assert reflect(client, cid, action="draft", learned_from_partner="half a thought").status_code == 303
    bad = reflect(client, cid, learned_from_partner="x", gain_self="9")
    assert bad.status_code == 422
    assert "Choose a number from 1 to 5" in bad.get_data(as_text=True)


def test_autosave_endpoint_needs_csrf_and_saves_a_draft(app, client, lti):
    from lti_tool.extensions import db
    from lti_tool.models import Reflection

    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    url = f"/learner/cohorts/{cid}/reflections/{SESSION}/draft"
    assert client.post(url, json={"answers": {"learned_from_partner": "x"}}).status_code == 400
    token = csrf_token_in(client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}"))
    ok = client.post(url, json={"answers": {"learned_from_partner": "typed so far"}}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["status"] == "draft"
    with app.app_context():
        r = db.session.execute(db.select(Reflection)).scalar_one()
        assert r.answers == {"learned_from_partner": "typed so far"} and r.status == "draft"


def test_edit_window_closes(app, client, lti):
    from lti_tool.extensions import db
    from lti_tool.models import Reflection

    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    reflect(client, cid, learned_from_partner="first", gain_self="4", gain_partner="4")
    assert reflect(client, cid, learned_from_partner="edited", gain_self="4", gain_partner="4").status_code == 303
    with app.app_context():
        r = db.session.execute(db.select(Reflection)).scalar_one()
        assert r.answers["learned_from_partner"] == "edited"
        r.submitted_at -= timedelta(hours=app.config.get("REFLECTION_EDIT_HOURS", 72) + 1)
        db.session.commit()
    page = client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}")
    assert "The edit window has closed" in page.get_data(as_text=True)
    data = {"csrf_token": csrf_token_in(page), "action": "submit", "a-learned_from_partner": "too late",
            "a-gain_self": "1", "a-gain_partner": "1"}
    assert client.post(f"/learner/cohorts/{cid}/reflections/{SESSION}", data=data).status_code == 409
    with app.app_context():
        assert db.session.execute(db.select(Reflection)).scalar_one().answers["learned_from_partner"] == "edited"


def test_visibility_rules_partner_facilitator_lnd(app, client, lti):
    launch(lti, "bea")
    launch(lti, "ana")
    cid = cohort_id(app)
    make_team(app, "ana", "bea")
    lab_held(app)
    reflect(client, cid, learned_from_partner="SHARED-WITH-PARTNER", gain_self="5", gain_partner="2",
            vis_gain_self="partner", vis_gain_partner="me")
    reflect(client, cid, session="d1-afternoon", do_differently="FOR-FACILITATOR", vis_do_differently="facilitator",
            gain_self="4", gain_partner="4")
    reflect(client, cid, session="d2-morning", taught_partner="ONLY-ME-SECRET", vis_taught_partner="me",
            gain_self="4", gain_partner="4")
    # the partner sees only what was shared with the partner
    launch(lti, "bea")
    mutual = client.get(f"/learner/cohorts/{cid}/team").get_data(as_text=True)
    assert "SHARED-WITH-PARTNER" in mutual
    assert "FOR-FACILITATOR" not in mutual and "ONLY-ME-SECRET" not in mutual
    assert "5.0" in mutual  # the shared own-gain rating; the "only me" partner rating is not shown
    # the facilitator sees partner- and facilitator-shared answers, never "only me"
    launch(lti, "fac", role="instructor", cohort="spring-lab")
    shared = client.get(f"/facilitator/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "SHARED-WITH-PARTNER" in shared and "FOR-FACILITATOR" in shared
    assert "ONLY-ME-SECRET" not in shared
    # L&D: no individual answer anywhere, only aggregates
    launch(lti, "lnd", role="lnd", cohort=None)
    for path in ("/insights/", "/insights/export/by_cohort.csv", "/insights/export/overview.csv"):
        body = client.get(path).get_data(as_text=True)
        for secret in ("SHARED-WITH-PARTNER", "FOR-FACILITATOR", "ONLY-ME-SECRET"):
            assert secret not in body
    assert client.get(f"/facilitator/cohorts/{cid}/reflections").status_code == 403


def test_visibility_service_unit():
    from types import SimpleNamespace

    from lti_tool.services.visibility import AS_FACILITATOR, AS_LND, AS_PARTNER, AUTHOR, visible_answers

    r = SimpleNamespace(status="submitted", answers={"a": "1", "b": "2", "c": "3"},
                        visibility={"a": "me", "b": "partner", "c": "facilitator"})
    assert visible_answers(r, AUTHOR) == r.answers
    assert visible_answers(r, AS_PARTNER) == {"b": "2"}
    assert visible_answers(r, AS_FACILITATOR) == {"b": "2", "c": "3"}
    assert visible_answers(r, AS_LND) == {}
    r.status = "draft"
    assert visible_answers(r, AS_PARTNER) == {} and visible_answers(r, AS_FACILITATOR) == {}


def test_other_learner_cannot_open_my_cohort_pages(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    launch(lti, "zed", cohort="other-lab")
    assert client.get(f"/learner/cohorts/{cid}/reflections").status_code == 404


def test_progress_checklist_on_home(app, client, lti):
    from lti_tool.extensions import db
    from lti_tool.models import Attendance

    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    pid = participant_id(app, "ana")
    with app.app_context():
        for sid in day_one_sessions():  # a day counts once all its working sessions are recorded present
            db.session.add(Attendance(cohort_id=cid, participant_id=pid, session_id=sid, present=True))
        db.session.commit()
    reflect(client, cid, learned_from_partner="x", gain_self="3", gain_partner="3")
    html = client.get("/learner/").get_data(as_text=True)
    assert "2 of 7 done" in html  # of intake, day 1, day 2 and four half-day reflections: day 1 and one reflection
    assert "Attended day 1: <strong>done</strong>" in html and "Attended day 2: <strong>to do</strong>" in html


def day_one_sessions() -> list[str]:
    from lti_tool.services.curriculum import curriculum

    return [s.id for s in curriculum().sessions if int(s.day) == 1 and not s.is_break]


def test_nothing_to_reflect_on_before_teams_are_published(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app, published=False)
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "Nothing to reflect on yet" in listing and f"reflections/{SESSION}" not in listing
    assert client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}").status_code == 404


def test_nothing_to_reflect_on_before_the_lab_dates_are_set(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    with app.app_context():
        db.session.get(Cohort, cid).day_one = db.session.get(Cohort, cid).day_two = None
        db.session.commit()
    assert "Nothing to reflect on yet" in client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}").status_code == 404


def test_one_reflection_per_half_day_once_the_lab_is_over(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    for half in ("d1-morning", "d1-afternoon", "d2-morning", "d2-afternoon"):
        assert f"/reflections/{half}\"" in listing
    assert "d1-knowledge-map" not in listing  # no longer one per session
    form = client.get(f"/learner/cohorts/{cid}/reflections/d2-afternoon").get_data(as_text=True)
    assert form.count("<textarea") == 1 and "My first step after the lab, and by when" in form


def test_a_half_day_opens_at_its_in_room_reflection_time_in_the_cohorts_time_zone(app, client, lti):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from lti_tool.extensions import db
    from lti_tool.models import Cohort
    from lti_tool.services.reflections import open_reflections

    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app)
    with app.app_context():
        cohort = db.session.get(Cohort, cid)
        cohort.timezone = "Asia/Tokyo"
        db.session.commit()
        tokyo = ZoneInfo("Asia/Tokyo")
        # d1-listening starts 125 minutes after 09:00 and lasts 75; its last 5 minutes are the reflection
        opens = datetime.combine(cohort.day_one, datetime.min.time(), tokyo).replace(hour=12, minute=15)
        assert [r.id for r in open_reflections(cohort, opens - timedelta(minutes=1))] == []
        assert [r.id for r in open_reflections(cohort, opens)] == ["d1-morning"]
        assert [r.id for r in open_reflections(cohort, opens.replace(hour=23))] == ["d1-morning", "d1-afternoon"]


def test_a_reflection_that_has_not_opened_cannot_be_written(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    lab_held(app, days_ago=-10)  # the lab is in ten days
    page = client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}")
    assert page.status_code == 404
    token = csrf_token_in(client.get("/learner/my-data/delete"))  # any form of the session
    draft = client.post(f"/learner/cohorts/{cid}/reflections/{SESSION}/draft",
                        json={"answers": {"learned_from_partner": "early"}}, headers={"X-CSRFToken": token})
    assert draft.status_code == 404
