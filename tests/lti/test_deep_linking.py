"""Deep linking: an instructor adds the lab; the tool returns a signed LtiResourceLink item."""
from __future__ import annotations

import jwt

from lti_tool.extensions import db
from lti_tool.models import Cohort
from tests.conftest import csrf_token_in


def test_instructor_adds_lab_and_response_verifies_against_jwks(lti, client, app, platform):
    response = lti(role="instructor", message_type="LtiDeepLinkingRequest")
    assert response.status_code == 303 and response.headers["Location"].endswith("/lti/deep-link")
    form = client.get("/lti/deep-link")
    assert form.status_code == 200 and "Add the lab to your course" in form.get_data(as_text=True)

    empty = client.post("/lti/deep-link", data={"csrf_token": csrf_token_in(form), "title": "", "cohort": ""})
    assert empty.status_code == 200 and 'aria-invalid="true"' in empty.get_data(as_text=True)

    result = client.post("/lti/deep-link", data={
        "csrf_token": csrf_token_in(form), "title": "Mentoring Lab – Autumn", "text": "Two days together",
        "cohort": "Autumn 2027"})
    assert result.status_code == 200
    html = result.get_data(as_text=True)
    assert f'action="{platform.issuer}/deep-link-return"' in html
    token = html.split('name="JWT" value="')[1].split('"')[0]

    header = jwt.get_unverified_header(token)
    jwks = client.get("/lti/jwks").get_json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    body = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=platform.issuer)
    assert body["iss"] == platform.client_id
    assert body["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert body["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == platform.deployment_id
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-123"
    [item] = body["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == "https://tool.test/lti/launch"
    assert item["title"] == "Mentoring Lab – Autumn" and item["text"] == "Two days together"
    assert item["custom"] == {"cohort": "autumn-2027"}
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort).filter_by(slug="autumn-2027")).scalar_one()
        assert cohort.name == "Autumn 2027"


def test_openedx_style_deep_link_without_resource_link_or_custom(lti, client):
    response = lti(role="openedx_staff", message_type="LtiDeepLinkingRequest", name=None, email=None)
    assert response.status_code == 303
    # Open edX sends no name or email: the tool asks first, then shows the picker.
    assert client.get("/lti/deep-link").status_code == 302


def test_learner_cannot_deep_link(lti, client):
    lti(role="learner", message_type="LtiDeepLinkingRequest")
    assert client.get("/lti/deep-link").status_code == 403


def test_deep_link_page_refuses_a_resource_launch(lti, client):
    lti(role="instructor")
    response = client.get("/lti/deep-link")
    assert response.status_code == 400 and "Not an activity picker launch" in response.get_data(as_text=True)
