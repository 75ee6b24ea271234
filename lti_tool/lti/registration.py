"""Tool configuration for registrations: LTI Dynamic Registration and the manual values.

pylti1p3 has no Dynamic Registration, so the protocol steps are here, over ``requests``; no
cryptography is involved (the platform fetches our keys from ``/lti/jwks``).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests
from flask import current_app, has_request_context, url_for

from ..extensions import db
from ..models import Deployment, Platform


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
    """Dynamic registration failed; the message says what the administrator should check."""


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
        "registration_url": public_url("lti.register"),
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


def fetch_openid_configuration(url: str, token: str | None) -> dict:
    """Read the platform's OpenID configuration and check it names an issuer on the same host."""
    if not url.startswith(("https://", "http://")):
        raise RegistrationError("The openid_configuration parameter is not an http(s) URL.")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(url, headers=headers, timeout=10)
        response.raise_for_status()
        config = response.json()
    except (requests.RequestException, ValueError) as e:
        raise RegistrationError(f"Could not read the platform's OpenID configuration at {url}: {e}") from e
    for field in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        if not isinstance(config.get(field), str) or not config[field]:
            raise RegistrationError(f"The platform's OpenID configuration has no {field}.")
    if urlsplit(config["issuer"]).netloc != urlsplit(url).netloc:
        raise RegistrationError("The OpenID configuration's issuer is not on the host that served it.")
    return config


def register_with_platform(openid_configuration_url: str, token: str | None) -> Platform:
    """Run Dynamic Registration and store the platform and its deployment."""
    config = fetch_openid_configuration(openid_configuration_url, token)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.post(config["registration_endpoint"], json=registration_request_body(),
                                 headers=headers, timeout=15)
        response.raise_for_status()
        registered = response.json()
    except (requests.RequestException, ValueError) as e:
        raise RegistrationError(f"The platform refused the registration: {e}") from e
    client_id = registered.get("client_id")
    if not client_id:
        raise RegistrationError("The platform's registration response has no client_id.")
    tool_conf = registered.get(TOOL_CONFIGURATION) or {}
    platform_conf = config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {}
    platform = save_platform(
        issuer=config["issuer"],
        client_id=str(client_id),
        deployment_id=tool_conf.get("deployment_id"),
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        jwks_url=config["jwks_uri"],
        auth_audience=config.get("authorization_server"),
        name=platform_conf.get("product_family_code") or config["issuer"],
        registered_via="dynamic",
    )
    return platform


def save_platform(*, issuer: str, client_id: str, deployment_id: str | None, auth_login_url: str,
                  auth_token_url: str, jwks_url: str | None, name: str = "", auth_audience: str | None = None,
                  key_set: dict | None = None, registered_via: str = "manual") -> Platform:
    """Create or update a platform (and deployment): running it twice changes nothing."""
    platform = db.session.execute(
        db.select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalars().first()
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id)
        db.session.add(platform)
    platform.name = name or platform.name or issuer
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    platform.jwks_url = jwks_url
    platform.auth_audience = auth_audience
    platform.key_set = key_set
    platform.registered_via = registered_via
    db.session.flush()
    if deployment_id:
        exists = db.session.execute(
            db.select(Deployment).where(Deployment.platform_id == platform.id,
                                        Deployment.deployment_id == str(deployment_id))
        ).scalars().first()
        if exists is None:
            db.session.add(Deployment(platform_id=platform.id, deployment_id=str(deployment_id)))
    db.session.commit()
    _ORIGINS_CACHE.clear()
    return platform


_ORIGINS_CACHE: dict[str, tuple[float, list[str]]] = {}
ORIGINS_TTL_SECONDS = 60


def frame_ancestor_origins() -> list[str]:
    """Origins of every registered platform, for CSP frame-ancestors (cached a minute per process)."""
    key = str(db.engine.url)
    cached = _ORIGINS_CACHE.get(key)
    if cached and time.monotonic() - cached[0] < ORIGINS_TTL_SECONDS:
        return cached[1]
    origins = set()
    for issuer, login in db.session.execute(db.select(Platform.issuer, Platform.auth_login_url)):
        for url in (issuer, login):
            parts = urlsplit(url or "")
            if parts.scheme in {"http", "https"} and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    _ORIGINS_CACHE[key] = (time.monotonic(), sorted(origins))
    return _ORIGINS_CACHE[key][1]


