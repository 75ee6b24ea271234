"""A database-backed pylti1p3 tool configuration: platforms and deployments live in tables."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import current_app, g, has_app_context
from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Deployment, Platform
from . import claims, keys, outbound


_now = time.monotonic  # the memo's clock (a test moves it)


@dataclass
class _Memo:
    """A platform row as this worker read it, until ``deadline``, with the deployments of it seen so far."""
    deadline: float
    platform: Platform
    deployments: dict[str, Deployment] = field(default_factory=dict)


def _worker_memo() -> dict[tuple[str, str | None], _Memo] | None:
    """This worker's platforms, (issuer, client id) -> _Memo; None when the memo is switched off."""
    if not has_app_context() or current_app.config["LTI_PLATFORM_MEMO_SECONDS"] <= 0:
        return None
    return current_app.extensions.setdefault("rml_platform_memo", {})


def forget_platforms() -> None:
    """Drop this worker's memo (a platform or deployment was just saved here); other workers' copies
    expire within LTI_PLATFORM_MEMO_SECONDS."""
    if has_app_context():
        current_app.extensions.pop("rml_platform_memo", None)


def find_platform(issuer: str, client_id: str | None, deployment_id: str | None = None) -> Platform | None:
    """The platform row for an issuer and client id; without a client id, the issuer's only one.

    Every login and launch asks, pylti1p3 several times per launch. The answer is memoised for the
    request and, for LTI_PLATFORM_MEMO_SECONDS, for the worker (only a platform found: an LMS registered
    a moment ago by another process logs in at once). The row is detached from the session, a read-only
    snapshot: the commits of a launch neither send it back to the database nor expire it. With a
    ``deployment_id`` (a launch names one) the platform and that deployment come in one query, and
    ``find_deployment`` then answers from the memo.
    """
    memo = g.setdefault("_platform_lookups", {}) if has_app_context() else {}
    key = (issuer, client_id)
    if key in memo:
        return memo[key]
    worker = _worker_memo()
    held = worker.get(key) if worker is not None else None
    if held is not None and held.deadline > _now() and (deployment_id is None or deployment_id in held.deployments):
        platform = memo[key] = held.platform
        if deployment_id is not None:
            _remember_deployment(key, platform, deployment_id, held.deployments[deployment_id])
        return platform
    joined = bool(client_id) and deployment_id is not None and has_app_context()
    if joined:
        row = db.session.execute(_PLATFORM_AND_DEPLOYMENT, {
            "issuer": issuer, "client_id": client_id, "deployment_id": deployment_id}).first()
        platform, deployment = (_detached(row[0]), _detached(row[1])) if row is not None else (None, None)
    else:
        platform = _detached(_query_platform(issuer, client_id))
    memo[key] = platform
    if platform is None:
        return None
    if worker is not None:
        worker[key] = _Memo(_now() + current_app.config["LTI_PLATFORM_MEMO_SECONDS"], platform)
    if joined:
        _remember_deployment(key, platform, deployment_id, deployment)
    return platform


def _remember_deployment(key: tuple[str, str | None], platform: Platform, deployment_id: str,
                         deployment: Deployment | None) -> None:
    """Which deployment ``deployment_id`` of ``platform`` is (None: none), for this request and, when one
    is found, for as long as the worker holds that platform."""
    g.setdefault("_deployment_lookups", {})[(platform.id, deployment_id)] = deployment
    worker = _worker_memo()
    held = worker.get(key) if worker is not None else None
    if deployment is not None and held is not None and held.platform is platform:
        held.deployments[deployment_id] = deployment


def _detached(row):
    """``row`` as a read-only snapshot for this request: later commits do not expire (and reload) it."""
    if row is not None:
        db.session.expunge(row)
    return row


# Built once: a login and a launch each run these, and building a statement costs about as much CPU
# as running it. The values are bound parameters.
_PLATFORM_BY_CLIENT = select(Platform).where(Platform.issuer == bindparam("issuer"),
                                             Platform.client_id == bindparam("client_id"))
_PLATFORMS_OF_ISSUER = select(Platform).where(Platform.issuer == bindparam("issuer")).limit(2)
# A launch's platform and the deployment it names, or the platform and None: one round trip for both.
_PLATFORM_AND_DEPLOYMENT = select(Platform, Deployment).outerjoin(
    Deployment, (Deployment.platform_id == Platform.id) & (Deployment.deployment_id == bindparam("deployment_id"))
).where(Platform.issuer == bindparam("issuer"), Platform.client_id == bindparam("client_id"))
_DEPLOYMENT = select(Deployment).where(Deployment.platform_id == bindparam("platform_id"),
                                       Deployment.deployment_id == bindparam("deployment_id"))


def _query_platform(issuer: str, client_id: str | None) -> Platform | None:
    if client_id:
        return db.session.execute(_PLATFORM_BY_CLIENT, {"issuer": issuer, "client_id": client_id}).scalars().first()
    rows = db.session.execute(_PLATFORMS_OF_ISSUER, {"issuer": issuer}).scalars().all()
    return rows[0] if len(rows) == 1 else None


def find_deployment(issuer: str, client_id: str | None, deployment_id: str) -> Deployment | None:
    platform = find_platform(issuer, client_id)
    if platform is None:
        return None
    memo = g.setdefault("_deployment_lookups", {})
    if (platform.id, deployment_id) not in memo:
        _remember_deployment((issuer, client_id), platform, deployment_id,
                             _detached(_query_deployment(platform, deployment_id)))
    return memo[(platform.id, deployment_id)]


def _query_deployment(platform: Platform, deployment_id: str) -> Deployment | None:
    return db.session.execute(_DEPLOYMENT, {"platform_id": platform.id, "deployment_id": deployment_id}).scalars().first()


class DatabaseToolConf(ToolConfAbstract):
    """Every issuer may have several client ids, so pylti1p3 always looks up by (iss, client_id)."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        # A launch (pylti1p3 passes its id_token's body) also needs the deployment it names: fetch both.
        body = kwargs.get("jwt_body")
        deployment_id = body.get(claims.DEPLOYMENT_ID) if isinstance(body, dict) else None
        platform = find_platform(iss, client_id, deployment_id if isinstance(deployment_id, str) else None)
        if platform is None:
            return None
        return registration_for(platform)

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        row = find_deployment(iss, client_id, deployment_id)
        return LtiDeployment().set_deployment_id(row.deployment_id) if row else None

    def get_jwks(self, iss=None, client_id=None, **kwargs):
        return keys.public_jwks()


def registration_for(platform: Platform) -> Registration:
    key = keys.active_key()
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_tool_private_key(key.private_key_pem)
        .set_tool_public_key(key.public_key_pem)
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    if platform.key_set:
        registration.set_key_set(platform.key_set)
    else:
        registration.set_key_set_url(platform.jwks_url)
    return registration


def service_connector(platform: Platform) -> ServiceConnector:
    """The connector for LMS services (NRPS, AGS): shared access tokens, retries, the guarded outbound session."""
    from .connector import CachingServiceConnector

    return CachingServiceConnector(registration_for(platform), outbound.session())
