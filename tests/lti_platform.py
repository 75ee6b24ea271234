"""A test LMS: its own RSA key, JWKS, OIDC authorization and token endpoints, served on loopback.

It stands in for Moodle, Canvas or Open edX ("the edge of the world"): the tool under test
fetches this platform's keys over real HTTP and verifies real RS256 signatures.
"""
from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from flask import Flask, jsonify, render_template_string, request
from jwcrypto.jwk import JWK
from werkzeug.serving import make_server

from lti_tool.lti.keys import new_rsa_key_pems

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE = {
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    "instructor": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
    "ta": ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
    "openedx_staff": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
                      "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
    "lnd": ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
    "system_admin": ["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"],
}


def new_rsa_pem() -> bytes:
    return new_rsa_key_pems()[0]


class TestPlatform:
    """A running fake LMS. ``issuer`` is its base URL; keys can be rotated mid-test."""

    __test__ = False

    def __init__(self, client_id: str = "tool-client", deployment_id: str = "deploy-1",
                 ssl_context: tuple[str, str] | None = None):
        """``ssl_context`` (certificate file, key file) serves it over https, as a production LMS is."""
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.private_pem = new_rsa_pem()
        self.jwks_fetches = 0
        self.openid_fetches = 0
        self.registrations: list[dict] = []
        self.token_requests: list[dict] = []
        self.token_expires_in = 3600
        self.revoked_tokens: set[str] = set()  # access tokens the platform no longer accepts (401)
        # Faults answered instead of the real thing, first in first out: (status, headers), e.g. (429, {"Retry-After": "1"}).
        self.service_faults: list[tuple[int, dict]] = []  # NRPS and AGS calls
        self.token_faults: list[tuple[int, dict]] = []  # the OAuth token endpoint
        self.service_calls: list[str] = []  # "METHOD path" of every NRPS/AGS call, faults included
        self.members: list[dict] = []  # the course roster served by NRPS
        self.nrps_page_size = 2
        self.lineitems: list[dict] = []  # AGS line items of the course
        self.scores: list[dict] = []  # every score posted: {"lineitem": id, "body": ..., "auth": ...}
        self.fail_scores = 0  # answer the next N score posts with HTTP 503
        self.users: dict[str, dict] = {}  # login hint -> sub, role, name, email (for browser launches)
        self.course_title = "Mentoring course"
        self.app = self._build_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, ssl_context=ssl_context)
        self.issuer = f"{'https' if ssl_context else 'http'}://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- keys -----------------------------------------------------------------------------
    @property
    def private_pem(self) -> bytes:
        return self._private_pem

    @private_pem.setter
    def private_pem(self, pem: bytes) -> None:
        # Loading an RSA key costs ~25 ms (validation): load once, not per signed token.
        self._private_pem = pem
        self._private_key = serialization.load_pem_private_key(pem, password=None)
        self._jwk = JWK.from_pem(pem)

    @property
    def kid(self) -> str:
        return self._jwk.thumbprint()

    def public_jwks(self) -> dict:
        jwk = self._jwk.export_public(as_dict=True)
        jwk.update(alg="RS256", use="sig", kid=self.kid)
        return {"keys": [jwk]}

    def rotate_key(self) -> None:
        self.private_pem = new_rsa_pem()

    # --- endpoints ----------------------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask("test_platform")
        platform = self

        def authorized() -> bool:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            return token.startswith("platform-access-token") and token not in platform.revoked_tokens

        @app.before_request
        def injected_faults():
            if request.path.startswith(("/nrps/", "/ags/")):
                platform.service_calls.append(f"{request.method} {request.path}")
                faults = platform.service_faults
            elif request.path == "/token":
                faults = platform.token_faults
            else:
                return None
            if faults:
                status, headers = faults.pop(0)
                return jsonify(error="injected fault"), status, headers
            return None

        @app.get("/jwks")
        def jwks():
            platform.jwks_fetches += 1
            return jsonify(platform.public_jwks())

        @app.get("/.well-known/openid-configuration")
        def openid_configuration():
            platform.openid_fetches += 1
            if request.headers.get("Authorization") != "Bearer reg-token-123":
                return jsonify(error="unauthorized"), 401
            return jsonify({
                "issuer": platform.issuer,
                "authorization_endpoint": platform.issuer + "/auth",
                "token_endpoint": platform.issuer + "/token",
                "jwks_uri": platform.issuer + "/jwks",
                "registration_endpoint": platform.issuer + "/register",
                "scopes_supported": ["openid"],
                "response_types_supported": ["id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "moodle", "version": "4.5",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
                },
            })

        @app.post("/register")
        def register():
            if request.headers.get("Authorization") != "Bearer reg-token-123":
                return jsonify(error="unauthorized"), 401
            body = request.get_json()
            platform.registrations.append(body)
            return jsonify({**body, "client_id": "dyn-client-7", "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                **body["https://purl.imsglobal.org/spec/lti-tool-configuration"], "deployment_id": "dyn-deploy-1"}})

        @app.post("/token")
        def token():
            platform.token_requests.append(request.form.to_dict())
            # a new token each time, so a revoked one can be told from its replacement
            return jsonify(access_token=f"platform-access-token-{len(platform.token_requests)}", token_type="Bearer",
                           expires_in=platform.token_expires_in, scope=request.form.get("scope", ""))

        @app.get("/nrps/<context_id>")
        def nrps(context_id):
            if not authorized():
                return jsonify(error="unauthorized"), 401
            page = int(request.args.get("page", "0"))
            size = platform.nrps_page_size
            chunk = platform.members[page * size:(page + 1) * size]
            response = jsonify({"id": request.url, "context": {"id": context_id}, "members": chunk})
            response.headers["Content-Type"] = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
            if (page + 1) * size < len(platform.members):
                response.headers["Link"] = f'<{platform.issuer}/nrps/{context_id}?page={page + 1}>; rel="next"'
            return response

        @app.get("/ags/<context_id>/lineitems")
        def lineitems_list(context_id):
            items = platform.lineitems  # pylti1p3 filters by tag / resource id itself
            response = jsonify(items)
            response.headers["Content-Type"] = "application/vnd.ims.lis.v2.lineitemcontainer+json"
            return response

        @app.post("/ags/<context_id>/lineitems")
        def lineitems_create(context_id):
            if not authorized():
                return jsonify(error="unauthorized"), 401
            body = request.get_json(force=True)
            item = {**body, "id": f"{platform.issuer}/ags/{context_id}/lineitems/{len(platform.lineitems) + 1}"}
            platform.lineitems.append(item)
            return jsonify(item), 201

        @app.post("/ags/<context_id>/lineitems/<int:item>/scores")
        def scores(context_id, item):
            if platform.fail_scores > 0:
                platform.fail_scores -= 1
                return jsonify(error="temporarily unavailable"), 503
            if not authorized():
                return jsonify(error="unauthorized"), 401
            platform.scores.append({"lineitem": f"{platform.issuer}/ags/{context_id}/lineitems/{item}",
                                    "content_type": request.headers.get("Content-Type"),
                                    "body": request.get_json(force=True)})
            return "", 204

        @app.get("/course/<context_id>/open")
        def open_tool(context_id):
            """The LMS page a person clicks: OIDC login initiation towards the tool (third-party initiated login)."""
            user = request.args["user"]
            params = {"iss": platform.issuer, "login_hint": user, "target_link_uri": request.args["tool"] + "/lti/launch",
                      "lti_message_hint": f"{context_id}|{request.args.get('cohort', '')}",
                      "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id}
            return render_template_string(AUTO_SUBMIT, action=request.args["tool"] + "/lti/login", method="get",
                                          fields=params, title=f"{platform.course_title}: opening the lab")

        @app.get("/auth")
        def authorize():
            """OIDC authorization: sign an id_token for the user named by the login hint, post it back."""
            args = request.args
            person = platform.users[args["login_hint"]]
            context_id, _, cohort = args.get("lti_message_hint", "").partition("|")
            token = platform.id_token(
                args["nonce"], sub=person["sub"], role=person["role"], context_id=context_id, name=person["name"],
                email=person["email"], custom={"cohort": cohort} if cohort else None,
                extra={LTI + "target_link_uri": args["redirect_uri"],
                       LTI + "context": {"id": context_id, "label": context_id.upper(), "title": platform.course_title}})
            return render_template_string(AUTO_SUBMIT, action=args["redirect_uri"], method="post",
                                          fields={"id_token": token, "state": args["state"]}, title="Signing in")

        return app

    def close(self) -> None:
        self.server.shutdown()

    def revoke_tokens(self) -> None:
        """The platform forgets every access token it issued (as after a restart or a key change)."""
        self.revoked_tokens.update(f"platform-access-token-{n}" for n in range(1, len(self.token_requests) + 1))

    # --- what the LMS sends ---------------------------------------------------------------------
    def registration_args(self) -> dict:
        return dict(issuer=self.issuer, client_id=self.client_id, deployment_id=self.deployment_id,
                    auth_login_url=self.issuer + "/auth", auth_token_url=self.issuer + "/token",
                    jwks_url=self.issuer + "/jwks", name="Test LMS")

    def id_token(self, nonce: str, *, sub="user-1", role="learner", context_id="course-1",
                 message_type="LtiResourceLinkRequest", iat_offset=0, exp_offset=300, aud=None,
                 deployment_id=None, key_pem=None, kid=None, name="Ana Costa", email="ana@example.com",
                 resource_link_id="link-1", custom=None, extra=None, drop=()) -> str:
        now = int(time.time()) + iat_offset
        body = {
            "iss": self.issuer, "aud": self.client_id if aud is None else aud, "sub": sub,
            "iat": now, "exp": int(time.time()) + exp_offset, "nonce": nonce,
            LTI + "deployment_id": deployment_id or self.deployment_id,
            LTI + "message_type": message_type,
            LTI + "version": "1.3.0",
            LTI + "roles": ROLE[role] if isinstance(role, str) else role,
            LTI + "context": {"id": context_id, "label": "MENT-1", "title": "Mentoring course"},
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.issuer}/nrps/{context_id}", "service_versions": ["2.0"]},
            LTI + "launch_presentation": {"document_target": "iframe", "return_url": self.issuer + "/return",
                                          "locale": "en"},
        }
        if name:
            body["name"] = name
        if email:
            body["email"] = email
        if message_type == "LtiResourceLinkRequest":
            body[LTI + "target_link_uri"] = "https://tool.test/lti/launch"
            if resource_link_id:
                body[LTI + "resource_link"] = {"id": resource_link_id, "title": "Mentoring lab"}
            if custom:
                body[LTI + "custom"] = custom
        else:
            body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": self.issuer + "/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-123",
            }
        body.update(extra or {})
        for key in drop:
            body.pop(key, None)
        return jwt.encode(body, key_pem or self._private_key, algorithm="RS256",
                          headers={"kid": kid or (JWK.from_pem(key_pem).thumbprint() if key_pem else self.kid)})


AUTO_SUBMIT = """<!doctype html><html lang="en"><head><title>{{ title }}</title></head><body>
<form id="f" method="{{ method }}" action="{{ action }}">{% for k, v in fields.items() %}
<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}<noscript><button>Continue</button></noscript></form>
<script>document.getElementById("f").submit();</script></body></html>"""


class Launcher:
    """Drives a full OIDC login + launch through the Flask test client (like Flaskr's AuthActions)."""

    def __init__(self, client, platform: TestPlatform):
        self.client = client
        self.platform = platform

    def login(self, *, login_hint="hint", client_id=None, issuer=None, method="GET"):
        params = {"iss": issuer or self.platform.issuer, "login_hint": login_hint,
                  "target_link_uri": "https://tool.test/lti/launch", "lti_message_hint": "msg-hint",
                  "client_id": client_id or self.platform.client_id,
                  "lti_deployment_id": self.platform.deployment_id, "lti1p3_new_window": "1"}
        if method == "POST":
            return self.client.post("/lti/login", data=params)
        return self.client.get("/lti/login", query_string=params)

    def start(self, **login_kwargs) -> dict:
        response = self.login(**login_kwargs)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        location = urlsplit(response.headers["Location"])
        params = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert params["redirect_uri"] == "https://tool.test/lti/launch"
        return params

    def launch(self, token_kwargs: dict | None = None, login_kwargs: dict | None = None):
        params = self.start(**(login_kwargs or {}))
        token = self.platform.id_token(params["nonce"], **(token_kwargs or {}))
        return self.client.post("/lti/launch", data={"id_token": token, "state": params["state"]}), token, params

    def __call__(self, **token_kwargs):
        response, _, _ = self.launch(token_kwargs)
        return response


def new_client_id() -> str:
    return "client-" + uuid.uuid4().hex[:8]


REPLACE_STATE = 'history.replaceState(null, "", '


def landing_path(body: str) -> str | None:
    """The address a launch's landing page puts in the browser's history (None when it is not one)."""
    if REPLACE_STATE + '"' not in body:
        return None
    return body.split(REPLACE_STATE + '"', 1)[1].split('"', 1)[0]


def landed(response, path: str | None = None) -> bool:
    """True when a launch answered with its landing page (``path``, when given) rather than a redirect.

    The launch renders the landing page in place (200) and the page's first script swaps the browser's
    address to the page's own, so a reload is a GET of that page.
    """
    body = response.get_data(as_text=True)
    if response.status_code != 200 or REPLACE_STATE not in body:
        return False
    return path is None or f'{REPLACE_STATE}"{path}")' in body
