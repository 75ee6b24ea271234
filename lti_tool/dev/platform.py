"""Keys, demo users and id_token signing for the development platform."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import jwt
from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from jwcrypto.jwk import JWK

from ..lti.keys import new_rsa_key_pems

from ..lti import claims
from ..lti.registration import public_url, save_platform

CLIENT_ID = "dev-tool"
DEPLOYMENT_ID = "1"
CONTEXT = {"id": "demo-course", "label": "RML-101", "title": "Leadership Academy: Reciprocal Mentoring"}
RESOURCE_LINK = {"id": "demo-lab-link", "title": "Reciprocal Mentoring Lab — spring cohort"}
COHORT_PARAM = "spring-lab"

ROLE_URIS = {
    "learner": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
    "facilitator": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
    "lnd": ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"],
}

# The development platform's "user database". Genders etc. are seeded by `demo seed`.
DEMO_USERS = [
    {"key": "ana", "name": "Ana Costa", "email": "ana.costa@example.com", "role": "learner"},
    {"key": "ben", "name": "Ben Okafor", "email": "ben.okafor@example.com", "role": "learner"},
    {"key": "chloe", "name": "Chloé Martin", "email": "chloe.martin@example.com", "role": "learner"},
    {"key": "dev", "name": "Dev Raman", "email": "dev.raman@example.com", "role": "learner"},
    {"key": "emma", "name": "Emma Lindqvist", "email": "emma.lindqvist@example.com", "role": "learner"},
    {"key": "farid", "name": "Farid Haddad", "email": "farid.haddad@example.com", "role": "learner"},
    {"key": "grace", "name": "Grace Wu", "email": "grace.wu@example.com", "role": "learner"},
    {"key": "hugo", "name": "Hugo Silva", "email": "hugo.silva@example.com", "role": "learner"},
    {"key": "anon", "name": None, "email": None, "role": "learner",
     "note": "sends no name or email, like Open edX by default"},
    {"key": "fran", "name": "Fran Keller", "email": "fran.keller@example.com", "role": "facilitator"},
    {"key": "lee", "name": "Lee Morgan", "email": "lee.morgan@example.com", "role": "lnd"},
]
ROLE_LABELS = {"learner": _l("learner"), "facilitator": _l("facilitator"), "lnd": _l("L&D administrator")}

# The launch languages a person can try (each named in its own language); "" sends no locale, so the
# tool follows the browser's Accept-Language instead.
LOCALES = {"en": "English", "de": "Deutsch", "fr": "Français"}


def launch_locale(value: str | None) -> str:
    """A chosen launch locale, or "" (none) for anything not offered."""
    return value if value in LOCALES else ""


def demo_user(key: str) -> dict | None:
    return next((u for u in DEMO_USERS if u["key"] == key), None)


def _key_path() -> Path:
    return Path(current_app.instance_path) / "dev_platform_key.pem"


def private_key_pem() -> bytes:
    path = _key_path()
    if not path.exists():
        # Written whole under a temporary name (readable by the owner only), then linked into place: of two
        # processes starting at once the first link wins and both use that key from then on.
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(new_rsa_key_pems()[0])
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_bytes()


def public_jwk() -> dict:
    jwk = JWK.from_pem(private_key_pem()).export_public(as_dict=True)
    jwk.update({"alg": "RS256", "use": "sig"})
    return jwk


def lms_url(endpoint: str) -> str:
    """An address on the development *platform*, i.e. the host the browser used to reach it.

    The tool's own addresses come from PUBLIC_BASE_URL; keeping the two apart lets the demo (and
    the cross-site browser test) run the LMS and the tool on different sites, as in production.
    """
    if has_request_context():
        return url_for(endpoint, _external=True)
    return public_url(endpoint)


def issuer() -> str:
    return lms_url("dev.index").rstrip("/")


def ensure_registered():
    """Register the development platform with the tool, like an administrator would."""
    return save_platform(
        issuer=issuer(), client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID,
        auth_login_url=lms_url("dev.authorize"), auth_token_url=lms_url("dev.token"),
        jwks_url=lms_url("dev.jwks"), key_set={"keys": [public_jwk()]},
        name="Development platform", registered_via="dev",
    )


def encode_hint(kind: str, locale: str) -> str:
    """The opaque lti_message_hint the tool hands back to /dev/auth: the launch kind and its locale."""
    return f"{kind}:{locale}" if locale else kind


def decode_hint(hint: str) -> tuple[str, str]:
    kind, _, locale = hint.partition(":")
    return kind, launch_locale(locale)


def id_token(user: dict, nonce: str, message_hint: str, return_url: str, locale: str = "") -> str:
    """A signed launch; ``locale`` goes into launch_presentation.locale when one was chosen."""
    now = int(time.time())
    presentation = {"document_target": "iframe", "return_url": return_url}
    if locale:
        presentation["locale"] = locale
    body = {
        "iss": issuer(), "aud": CLIENT_ID, "sub": f"dev-{user['key']}", "iat": now, "exp": now + 300,
        "nonce": nonce,
        claims.DEPLOYMENT_ID: DEPLOYMENT_ID,
        claims.LTI + "version": "1.3.0",
        claims.ROLES: ROLE_URIS[user["role"]],
        claims.CONTEXT: CONTEXT,
        claims.LAUNCH_PRESENTATION: presentation,
    }
    if user.get("name"):
        first, _, last = user["name"].partition(" ")
        body.update(name=user["name"], given_name=first, family_name=last, email=user["email"])
    if message_hint == "deep-link":
        body[claims.MESSAGE_TYPE] = "LtiDeepLinkingRequest"
        body[claims.TARGET_LINK_URI] = public_url("lti.launch")
        body[claims.DEEP_LINKING_SETTINGS] = {
            "deep_link_return_url": lms_url("dev.deep_link_return"),
            "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe", "window"],
            "data": "dev-" + uuid.uuid4().hex[:8],
        }
    else:
        body[claims.MESSAGE_TYPE] = "LtiResourceLinkRequest"
        body[claims.TARGET_LINK_URI] = public_url("lti.launch")
        body[claims.RESOURCE_LINK] = RESOURCE_LINK
        body[claims.CUSTOM] = {"cohort": COHORT_PARAM}
    kid = public_jwk()["kid"]
    return jwt.encode(body, private_key_pem(), algorithm="RS256", headers={"kid": kid})
