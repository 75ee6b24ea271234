"""Tool configuration for registrations: LTI Dynamic Registration and the manual values.

pylti1p3 has no Dynamic Registration, so the protocol steps are here, over the guarded outbound
session; no cryptography is involved (the platform fetches our keys from ``/lti/jwks``).

Dynamic Registration is only possible through a one-time link an administrator makes
(``flask --app lti_tool platform invite``), and it only ever *adds* a platform: changing an existing
platform's keys or endpoints is the command line's job (``platform add``), so nobody who reaches
``/lti/register`` can redirect a real LMS's launches to keys of their own.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from flask import current_app, has_request_context, url_for
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Deployment, Platform, RegistrationInvite, utcnow
from ..services import audit
from . import outbound
from .tool_config import forget_platforms

log = logging.getLogger(__name__)


TOOL_NAME = "Reciprocal Mentoring Lab"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email"]
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class RegistrationError(Exception):
    """Registration failed; the message says what the administrator should check."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def public_url(endpoint: str, **values) -> str:
    """An absolute URL on the tool's public origin (PUBLIC_BASE_URL when set)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not has_request_context():  # CLI commands: build on the configured public origin
        with current_app.test_request_context(base_url=base or "http://localhost"):
            return public_url(endpoint, **values)
    path = url_for(endpoint, **values)
    return (base + path) if base else url_for(endpoint, _external=True, **values)


def tool_urls() -> dict:
    return {
        "login_url": public_url("lti.login"),
        "launch_url": public_url("lti.launch"),
        "jwks_url": public_url("lti.jwks"),
        "deep_linking_url": public_url("lti.launch"),
    }


def manual_configuration() -> dict:
    """Everything an administrator types into an LMS without Dynamic Registration."""
    urls = tool_urls()
    domain = urlsplit(urls["launch_url"]).netloc
    return {
        "title": TOOL_NAME,
        "description": "Cross-gender reciprocal mentoring labs: intake, matching, schedule and reflections.",
        "oidc_initiation_url": urls["login_url"],
        "login_url": urls["login_url"],
        "redirect_uris": [urls["launch_url"]],
        "target_link_uri": urls["launch_url"],
        "deep_linking_url": urls["deep_linking_url"],
        "public_jwk_url": urls["jwks_url"],
        "jwks_url": urls["jwks_url"],
        "domain": domain,
        "claims": CLAIMS,
        "scopes": SCOPES,
        "messages": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
        "custom_parameters": {"cohort": "optional: the cohort this link opens, created on demand"},
        "privacy": "The tool works without names and emails and asks the person when they are missing.",
        "registration_command": "flask --app lti_tool platform invite [--expires 7d] [--lms-url URL]",
        "platform_command": (
            "flask --app lti_tool platform add --issuer ISS --client-id CID --deployment-id DID "
            "--auth-login-url URL --auth-token-url URL --jwks-url URL [--name NAME]"
        ),
    }


def registration_request_body() -> dict:
    urls = tool_urls()
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls["login_url"],
        "redirect_uris": [urls["launch_url"]],
        "client_name": TOOL_NAME,
        "jwks_uri": urls["jwks_url"],
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(urls["launch_url"]).netloc,
            "description": manual_configuration()["description"],
            "target_link_uri": urls["launch_url"],
            "claims": CLAIMS,
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": urls["deep_linking_url"],
                 "label": "Add a Reciprocal Mentoring Lab"},
                {"type": "LtiResourceLinkRequest", "target_link_uri": urls["launch_url"]},
            ],
        },
    }


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    parts = urlsplit(url or "")
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f"{parts.scheme}://{parts.netloc.lower()}"
    return None


def require_lms_url(url: str | None, what: str) -> None:
    """An LMS endpoint must be https (http only with LTI_ALLOW_HTTP, for development and tests)."""
    parts = urlsplit(url or "")
    allowed = ("https", "http") if outbound.setting("LTI_ALLOW_HTTP") else ("https",)
    if parts.scheme not in allowed or not parts.netloc:
        raise RegistrationError(f"The platform's {what} must be an https URL, not {url!r}.")


# --- one-time registration links -------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invite(expires_in: timedelta, lms_url: str | None = None, label: str = "") -> tuple[str, RegistrationInvite]:
    """Make a single-use registration link; returns the secret token (shown once) and the row."""
    lms_origin = None
    if lms_url:
        require_lms_url(lms_url, "address")
        lms_origin = origin_of(lms_url)
    token = secrets.token_urlsafe(32)
    invite = RegistrationInvite(token_hash=_token_hash(token), label=label[:200], lms_origin=lms_origin,
                                expires_at=utcnow() + expires_in)
    db.session.add(invite)
    db.session.commit()
    log.info("registration link created id=%s expires_at=%s lms_origin=%s", invite.id, invite.expires_at, lms_origin)
    return token, invite


def invite_url(token: str) -> str:
    return public_url("lti.register_with_invite", token=token)


def open_invite(token: str) -> RegistrationInvite:
    """The usable invite for a token, or a RegistrationError that says why it cannot be used."""
    invite = db.session.execute(db.select(RegistrationInvite).where(
        RegistrationInvite.token_hash == _token_hash(token))).scalars().first()
    if invite is None:
        raise RegistrationError("This registration link is not valid. Ask the tool's administrator for a new "
                                "one (flask --app lti_tool platform invite).", status=403)
    if invite.used_at is not None:
        raise RegistrationError("This registration link was already used. Each link registers one LMS once; "
                                "ask the tool's administrator for a new one.", status=410)
    if invite.expires_at <= utcnow():
        raise RegistrationError("This registration link has expired. Ask the tool's administrator for a new one.",
                                status=410)
    return invite


def frame_origins_for(invite: RegistrationInvite, configuration_url: str | None = None,
                      config: dict | None = None) -> list[str]:
    """Who may show the registration page in a frame: the LMS the link is for, or the one registering."""
    if invite.lms_origin:
        return [invite.lms_origin]
    found = {origin_of(configuration_url), origin_of((config or {}).get("issuer"))}
    return sorted(o for o in found if o)


# --- Dynamic Registration ------------------------------------------------------------------------

def fetch_openid_configuration(url: str, token: str | None, invite: RegistrationInvite) -> dict:
    """Read the platform's OpenID configuration and check it names an issuer on the same host."""
    if origin_of(url) is None:
        raise RegistrationError("The openid_configuration parameter is not an http(s) URL.")
    if invite.lms_origin and origin_of(url) != invite.lms_origin:
        raise RegistrationError(f"This registration link is for {invite.lms_origin}, not {origin_of(url)}.",
                                status=403)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = outbound.session().get(url, headers=headers)
        response.raise_for_status()
        config = response.json()
    except (requests.RequestException, ValueError) as e:
        raise RegistrationError(f"Could not read the platform's OpenID configuration at {url}: {e}",
                                status=502) from e
    if not isinstance(config, dict):
        raise RegistrationError("The platform's OpenID configuration is not a JSON object.", status=502)
    for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        if not isinstance(config.get(field), str) or not config[field]:
            raise RegistrationError(f"The platform's OpenID configuration has no {field}.", status=502)
    if origin_of(config["issuer"]) != origin_of(url):
        raise RegistrationError("The OpenID configuration's issuer is not on the host that served it.", status=502)
    for field, what in (("issuer", "issuer"), ("authorization_endpoint", "login (authorization) URL"),
                        ("token_endpoint", "token URL"), ("jwks_uri", "key set URL"),
                        ("registration_endpoint", "registration endpoint")):
        require_lms_url(config[field], what)
    return config


def register_with_platform(openid_configuration_url: str, token: str | None, invite_token: str) -> Platform:
    """Run Dynamic Registration through a one-time link and store the new platform and deployment."""
    invite = open_invite(invite_token)
    config = fetch_openid_configuration(openid_configuration_url, token, invite)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = outbound.session().post(config["registration_endpoint"], json=registration_request_body(),
                                           headers=headers)
        response.raise_for_status()
        registered = response.json()
    except (requests.RequestException, ValueError) as e:
        raise RegistrationError(f"The platform refused the registration: {e}", status=502) from e
    client_id = registered.get("client_id") if isinstance(registered, dict) else None
    if not client_id:
        raise RegistrationError("The platform's registration response has no client_id.", status=502)
    tool_conf = registered.get(TOOL_CONFIGURATION) or {}
    platform_conf = config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {}
    # Spend the link in the same transaction that stores the platform: one link, one registration.
    spent = db.session.execute(db.update(RegistrationInvite).where(
        RegistrationInvite.id == invite.id, RegistrationInvite.used_at.is_(None)).values(used_at=utcnow())).rowcount
    if spent != 1:
        db.session.rollback()
        raise RegistrationError("This registration link was already used.", status=410)
    platform = save_platform(
        issuer=config["issuer"],
        client_id=str(client_id),
        deployment_id=tool_conf.get("deployment_id"),
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        jwks_url=config["jwks_uri"],
        auth_audience=config.get("authorization_server"),
        name=str(platform_conf.get("product_family_code") or config["issuer"]),
        registered_via="dynamic",
        update=False,
        commit=False,
    )
    db.session.execute(db.update(RegistrationInvite).where(RegistrationInvite.id == invite.id)
                       .values(platform_id=platform.id))
    db.session.commit()
    log.info("platform registered dynamically id=%s issuer=%s client_id=%s invite=%s",
             platform.id, platform.issuer, platform.client_id, invite.id)
    return platform


PLATFORM_FIELDS = ("name", "auth_login_url", "auth_token_url", "jwks_url", "auth_audience", "key_set",
                   "registered_via")


def save_platform(*, issuer: str, client_id: str, deployment_id: str | None, auth_login_url: str,
                  auth_token_url: str, jwks_url: str | None, name: str = "", auth_audience: str | None = None,
                  key_set: dict | None = None, registered_via: str = "manual", update: bool = True,
                  commit: bool = True) -> Platform:
    """Create a platform (and deployment), or with ``update`` change an existing one.

    Running it twice with the same values changes nothing. Dynamic Registration passes
    ``update=False``: an existing (issuer, client id) is refused, never overwritten.
    """
    require_lms_url(issuer, "issuer")
    require_lms_url(auth_login_url, "login (authorization) URL")
    require_lms_url(auth_token_url, "token URL")
    if jwks_url is not None or key_set is None:
        require_lms_url(jwks_url, "key set URL")
    platform = db.session.execute(
        db.select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalars().first()
    change = "added" if platform is None else None
    values = {"name": name or (platform.name if platform else "") or issuer, "auth_login_url": auth_login_url,
              "auth_token_url": auth_token_url, "jwks_url": jwks_url, "auth_audience": auth_audience,
              "key_set": key_set, "registered_via": registered_via}
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id, **values)
        db.session.add(platform)
        try:
            db.session.flush()
        except IntegrityError as e:  # a concurrent registration of the same pair
            db.session.rollback()
            raise RegistrationError("This LMS (issuer and client id) is already registered.", status=409) from e
        log.info("platform added id=%s issuer=%s client_id=%s via=%s", platform.id, issuer, client_id, registered_via)
    else:
        if registered_via == "manual" and platform.registered_via == "dynamic":
            values["registered_via"] = "dynamic"  # keep how it first came in
        changed = sorted(k for k, v in values.items() if getattr(platform, k) != v)
        if changed and not update:
            db.session.rollback()
            raise RegistrationError(
                "This LMS (issuer and client id) is already registered. A registration never changes an existing "
                "platform; an administrator changes it with `flask --app lti_tool platform add`.", status=409)
        for key in changed:
            setattr(platform, key, values[key])
        if changed:
            change = "changed"
            log.warning("platform changed id=%s issuer=%s client_id=%s fields=%s", platform.id, issuer, client_id,
                        ",".join(changed))
        db.session.flush()
    deployment = None
    if deployment_id:
        deployment = db.session.execute(
            db.select(Deployment).where(Deployment.platform_id == platform.id,
                                        Deployment.deployment_id == str(deployment_id))
        ).scalars().first()
        if deployment is None:
            deployment = Deployment(platform_id=platform.id, deployment_id=str(deployment_id))
            db.session.add(deployment)
            db.session.flush()
            change = change or "deployment_added"
            log.info("deployment added platform=%s deployment_id=%s", platform.id, deployment_id)
    if change:
        audit.record("registration", deployment=deployment, commit=False,
                     actor_role="platform" if registered_via == "dynamic" else "cli",
                     details={"platform": platform.id, "via": registered_via, "change": change})
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    forget_platforms()
    return platform


def platform_origins(platform: Platform) -> list[str]:
    """The origins that may frame the tool for this platform (its issuer and its login host)."""
    return sorted({o for o in (origin_of(platform.issuer), origin_of(platform.auth_login_url)) if o})
