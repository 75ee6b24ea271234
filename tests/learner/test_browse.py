"""Browse and request: visibility, filters, the request limit, declines, undo."""
from __future__ import annotations

from lti_tool.extensions import db
from lti_tool.models import Cohort, PartnerPreference
from lti_tool.services.intake import preferences_for_cohort
from tests.conftest import csrf_token_in
from tests.learner.conftest import fill


def test_only_submitted_people_and_only_shown_fields(people, client, app):
    fill(app, "ana", offers=["Data analysis"], wants=["Negotiation"])
    fill(app, "ben", gender="man", department="Engineering", location="Berlin", goals="SECRET-GOAL",
         offers=["Negotiation", "Writing"], wants=["Data analysis"], visible_fields=["offers", "wants"])
    fill(app, "chloe", department="Marketing", location="Paris", gender="non-binary",
         visible_fields=["department", "location", "gender"])
    # dev never submitted intake
    html = client.get(f"/learner/cohorts/{people}/people").get_data(as_text=True)
    assert "Ben Okafor" in html and "Chloé Martin" in html
    assert "Dev Raman" not in html and "<h3>Ana Costa</h3>" not in html
    assert "Engineering" not in html and "Berlin" not in html and "SECRET-GOAL" not in html  # Ben hides them
    assert "Marketing" in html and "Paris" in html and "Non-binary" in html
    assert "You could learn: Negotiation" in html and "You could teach: Data analysis" in html
    # Chloé hides her skills: no overlap is computed from hidden answers
    chloe_card = html.split('<h3>Chloé Martin</h3>')[1].split("</li>\n")[0]
    assert "No overlap in what this person shows." in chloe_card


def test_filters(people, client, app):
    fill(app, "ana")
    fill(app, "ben", department="Engineering", location="Berlin", offers=["Writing"])
    fill(app, "chloe", department="Marketing", location="Paris", offers=["Negotiation"])
    fill(app, "dev", department="Engineering", location="Paris", offers=["Writing"],
         visible_fields=["offers", "wants"])  # hides department and location
    base = f"/learner/cohorts/{people}/people"
    html = client.get(base, query_string={"department": "Engineering"}).get_data(as_text=True)
    assert "Ben Okafor" in html and "Chloé Martin" not in html and "Dev Raman" not in html
    html = client.get(base, query_string={"location": "Paris"}).get_data(as_text=True)
    assert "Chloé Martin" in html and "Ben Okafor" not in html and "Dev Raman" not in html
    html = client.get(base, query_string={"skill": "Writing"}).get_data(as_text=True)
    assert "Ben Okafor" in html and "Dev Raman" in html and "Chloé Martin" not in html
    html = client.get(base).get_data(as_text=True)
    assert '<option value="Engineering" >Engineering</option>' in html
    assert "1 person" in client.get(base, query_string={"skill": "Negotiation"}).get_data(as_text=True)


def _pref(client, cohort, other, action, token):
    return client.post(f"/learner/cohorts/{cohort}/people/{other}", data={"csrf_token": token, "action": action},
                       follow_redirects=True)


def test_request_limit_decline_and_undo(people, lti, client, app):
    ids = {sub: fill(app, sub) for sub in ("ben", "chloe", "dev")}
    lti(role="learner", sub="emma", name="Emma Lindqvist", email="e@example.com", custom={"cohort": "spring"})
    ids["emma"] = fill(app, "emma")
    lti(role="learner", sub="ana", name="Ana Costa", email="ana@example.com", custom={"cohort": "spring"})
    me = fill(app, "ana")
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/people"))
    for sub in ("ben", "chloe", "dev"):
        assert _pref(client, people, ids[sub], "request", token).status_code == 200
    over = _pref(client, people, ids["emma"], "request", token).get_data(as_text=True)
    assert "You can request at most 3 partners. Undo a request first." in over
    assert "Partners requested: 3 of 3." in over
    page = _pref(client, people, ids["emma"], "decline", token).get_data(as_text=True)
    assert "You declined this person." in page
    assert preferences_for_cohort_in(app, people) == {
        "requests": [[str(me), str(ids["ben"])], [str(me), str(ids["chloe"])], [str(me), str(ids["dev"])]],
        "declines": [[str(me), str(ids["emma"])]]}
    page = _pref(client, people, ids["ben"], "undo", token).get_data(as_text=True)
    assert "Undone." in page and "Partners requested: 2 of 3." in page
    assert "Partner requested." in _pref(client, people, ids["emma"], "request", token).get_data(as_text=True)
    with app.app_context():
        kinds = {r.to_participant_id: r.kind for r in db.session.execute(db.select(PartnerPreference)).scalars()}
    assert kinds == {ids["chloe"]: "request", ids["dev"]: "request", ids["emma"]: "request"}


def test_preference_needs_csrf_and_a_cohort_mate(people, client, app):
    other = fill(app, "ben")
    fill(app, "ana")
    r = client.post(f"/learner/cohorts/{people}/people/{other}", data={"action": "request"})
    assert r.status_code == 400
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/people"))
    assert _pref(client, people, 99999, "request", token).status_code == 404
    with app.app_context():
        assert db.session.execute(db.select(PartnerPreference)).first() is None


def preferences_for_cohort_in(app, cohort_id):
    with app.app_context():
        return preferences_for_cohort(db.session.get(Cohort, cohort_id))
