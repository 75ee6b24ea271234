"""Facilitator: cohorts with clear validation, roster from the LMS (NRPS) and from CSV."""
from __future__ import annotations

from datetime import date, timedelta

import jwt

from lti_tool.extensions import db
from lti_tool.models import Cohort, LtiUser, Participant
from tests.conftest import csrf_token_in
from tests.lti_platform import ROLE

SOON = date.today() + timedelta(days=30)


def cohort_data(form_page, **changes):
    data = {"csrf_token": csrf_token_in(form_page), "name": "Spring lab", "day_one": SOON.isoformat(),
            "day_two": (SOON + timedelta(days=1)).isoformat(), "timezone": "Europe/Berlin",
            "venue": "Room Kepler", "video_link": "", "capacity": "24", "schedule_mode": "blocks",
            "cross_gender": "prefer", "undisclosed": "any", "department": "different", "min_shared_slots": "1",
            "objective": "balanced", "weight_skills": "10", "weight_gender": "5", "weight_department": "3",
            "weight_location": "1", "weight_requests": "8"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def create_cohort(client, **changes):
    page = client.get("/facilitator/cohorts/new")
    return client.post("/facilitator/cohorts/new", data=cohort_data(page, **changes))


def test_create_and_edit_cohort(lti, client, app):
    lti(role="instructor", sub="teacher", name="Tess Teacher", email="tess@example.com")
    response = create_cohort(client, cross_gender="require", max_level_gap="2")
    assert response.status_code == 303
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        assert cohort.slug == "spring-lab" and cohort.timezone == "Europe/Berlin"
        assert cohort.policy["cross_gender"] == "require" and cohort.policy["max_level_gap"] == 2
        assert cohort.policy["weights"]["requests"] == 8
        cohort_id = cohort.id
    page = client.get(f"/facilitator/cohorts/{cohort_id}/edit")
    assert '<input checked id="cross_gender-0" name="cross_gender" type="radio" value="require">' in page.get_data(as_text=True)
    edited = client.post(f"/facilitator/cohorts/{cohort_id}/edit",
                         data=cohort_data(page, name="Spring lab A", venue="", video_link="https://meet.example/x"))
    assert edited.status_code == 303
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        assert cohort.name == "Spring lab A" and cohort.venue is None and cohort.video_link == "https://meet.example/x"
    assert "Spring lab A" in client.get("/facilitator/").get_data(as_text=True)


def test_bad_cohort_input_gets_clear_errors_and_saves_nothing(lti, client, app):
    lti(role="instructor", sub="teacher", name="Tess Teacher", email="tess@example.com")
    cases = [
        ({"day_one": (date.today() - timedelta(days=3)).isoformat()}, "The first lab day is in the past."),
        ({"day_two": (SOON - timedelta(days=1)).isoformat()}, "The second lab day must come after the first."),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"venue": "", "video_link": ""}, "Give a venue, a video link, or both."),
        ({"video_link": "not a url"}, "Invalid URL"),
        ({"capacity": "1"}, "Number must be between 2 and 200"),
    ]
    for change, message in cases:
        response = create_cohort(client, **change)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, change
        assert message in body, (change, body[:2000])
        assert 'aria-invalid="true"' in body and 'role="alert"' in body
        assert 'value="Spring lab"' in body  # what the facilitator typed is kept
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Cohort.id))).scalar() == 0


def test_cohort_of_another_course_is_not_found(lti, client, app):
    lti(role="instructor", context_id="course-A")
    create_cohort(client)
    with app.app_context():
        cohort_id = db.session.execute(db.select(Cohort.id)).scalar_one()
    lti(role="instructor", context_id="course-B", sub="other-teacher")
    assert client.get(f"/facilitator/cohorts/{cohort_id}").status_code == 404
    assert client.get(f"/facilitator/cohorts/{cohort_id}/edit").status_code == 404


def test_learner_cannot_manage_cohorts(lti, client):
    lti(role="learner")
    assert client.get("/facilitator/cohorts/new").status_code == 403


def upload(client, cohort_id, content: bytes):
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    import io
    return client.post(f"/facilitator/cohorts/{cohort_id}/roster/upload", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token_in(page), "file": (io.BytesIO(content), "roster.csv")})


def test_csv_roster_is_all_or_nothing_with_row_numbers(lti, client, app):
    lti(role="instructor", sub="teacher", name="Tess Teacher", email="tess@example.com")
    create_cohort(client)
    with app.app_context():
        cohort_id = db.session.execute(db.select(Cohort.id)).scalar_one()
    template = client.get("/facilitator/roster-template.csv")
    assert template.status_code == 200 and template.get_data(as_text=True).lstrip("\ufeff").startswith("name,email")

    bad = upload(client, cohort_id, "name,email,department\nAna,ana@example.com,Sales\n,bob@example.com,IT\n"
                                    "Cleo,not-an-email,IT\nDan,ana@example.com,HR\n".encode())
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Nothing was imported" in body
    assert "Row 3: name is empty." in body and "Row 4: email" in body and "already in row 2" in body
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Participant.id))).scalar() == 0

    good = upload(client, cohort_id, "\ufeffname,email,department,location\nAna Costa,ANA@example.com,Sales,Lisbon\n"
                                     "Ben Okafor,ben@example.com,IT,Lagos\n".encode())
    assert good.status_code == 303
    page = client.get(f"/facilitator/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Ana Costa" in page and "Ben Okafor" in page and "Not started" in page
    again = upload(client, cohort_id, b"name,email\nAna Costa,ana@example.com\n")
    assert again.status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Participant.id))).scalar() == 2
        ana = db.session.execute(db.select(Participant).join(LtiUser).where(LtiUser.lms_email == "ana@example.com")).scalar_one()
        assert ana.department == "Sales" and ana.location == "Lisbon"


def test_csv_imported_person_is_recognised_at_first_launch(lti, client, app):
    lti(role="instructor", sub="teacher", name="Tess Teacher", email="tess@example.com")
    create_cohort(client)
    with app.app_context():
        cohort_id = db.session.execute(db.select(Cohort.id)).scalar_one()
    upload(client, cohort_id, b"name,email\nAna Costa,ana@example.com\n")
    lti(role="learner", sub="lms-ana-1", email="ana@example.com", name="Ana Costa")
    with app.app_context():
        users = db.session.execute(db.select(LtiUser).where(LtiUser.lms_email == "ana@example.com")).scalars().all()
        assert len(users) == 1 and users[0].sub == "lms-ana-1"


def test_roster_sync_from_lms_follows_pages(lti, client, app, platform):
    platform.members = [
        {"user_id": f"u{i}", "name": f"Learner {i}", "email": f"l{i}@example.com", "status": "Active",
         "roles": ROLE["learner"]} for i in range(5)
    ] + [
        {"user_id": "t1", "name": "Teacher", "status": "Active", "roles": ROLE["instructor"]},
        {"user_id": "gone", "name": "Gone", "status": "Inactive", "roles": ROLE["learner"]},
    ]
    lti(role="instructor", sub="teacher", name="Tess Teacher", email="tess@example.com")
    create_cohort(client)
    with app.app_context():
        cohort_id = db.session.execute(db.select(Cohort.id)).scalar_one()
    page = client.get(f"/facilitator/cohorts/{cohort_id}")
    response = client.post(f"/facilitator/cohorts/{cohort_id}/roster/sync", data={"csrf_token": csrf_token_in(page)})
    assert response.status_code == 303
    body = client.get(f"/facilitator/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Roster synchronised with the LMS." in body
    for i in range(5):
        assert f"Learner {i}" in body
    assert "Teacher</th>" not in body and "Gone" not in body
    # The NRPS call used an OAuth2 client-credentials token the tool signed with its own key.
    [token_request] = platform.token_requests
    assert token_request["grant_type"] == "client_credentials"
    assertion = token_request["client_assertion"]
    jwk = next(k for k in client.get("/lti/jwks").get_json()["keys"]
               if k["kid"] == jwt.get_unverified_header(assertion)["kid"])
    claims = jwt.decode(assertion, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=platform.issuer + "/token")
    assert claims["iss"] == platform.client_id and claims["sub"] == platform.client_id
