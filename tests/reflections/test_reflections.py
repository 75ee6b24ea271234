"""Reflections: drafts, submit, edit window, and the visibility rules (one service decides)."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import csrf_token_in
from tests.reflections.helpers import SESSION, cohort_id, launch, make_team, participant_id, reflect


def test_learner_submits_a_reflection_and_sees_it_listed(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    page = client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}")
    html = page.get_data(as_text=True)
    assert "What did I learn from my partner" in html
    assert "default: My partner (and the facilitator)" in html  # defaults stated on the form
    response = reflect(client, cid, learned_from_partner="How to read a P&L", gain_self="4", gain_partner="3")
    assert response.status_code == 303
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "Submitted (you can edit until" in listing


def test_submit_requires_ratings_in_scale_but_drafts_do_not(app, client, lti):
    launch(lti, "ana")
    cid = cohort_id(app)
    assert reflect(client, cid, action="draft", learned_from_partner="half a thought").status_code == 303
    bad = reflect(client, cid, learned_from_partner="x", gain_self="9")
    assert bad.status_code == 422
    assert "Choose a number from 1 to 5" in bad.get_data(as_text=True)


def test_autosave_endpoint_needs_csrf_and_saves_a_draft(app, client, lti):
    from lti_tool.extensions import db
    from lti_tool.models import Reflection

    launch(lti, "ana")
    cid = cohort_id(app)
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
    reflect(client, cid, learned_from_partner="SHARED-WITH-PARTNER", taught_partner="FOR-FACILITATOR",
            vis_taught_partner="facilitator", do_differently="ONLY-ME-SECRET", gain_self="5", gain_partner="2",
            vis_gain_self="partner", vis_gain_partner="me")
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
    pid = participant_id(app, "ana")
    with app.app_context():
        for sid in day_one_sessions():  # a day counts once all its working sessions are recorded present
            db.session.add(Attendance(cohort_id=cid, participant_id=pid, session_id=sid, present=True))
        db.session.commit()
    reflect(client, cid, learned_from_partner="x", gain_self="3", gain_partner="3")
    html = client.get("/learner/").get_data(as_text=True)
    from lti_tool.services.curriculum import reflective_sessions

    total = 3 + len(reflective_sessions())  # intake, day 1, day 2, reflections (the action plan among them)
    assert f"2 of {total} done" in html  # day 1 attended and one reflection
    assert "Attended day 1: <strong>done</strong>" in html and "Attended day 2: <strong>to do</strong>" in html


def day_one_sessions() -> list[str]:
    from lti_tool.services.curriculum import curriculum

    return [s.id for s in curriculum().sessions if int(s.day) == 1 and not s.is_break]
