"""pylti1p3 wrapped with the fixes a production tool needs.

Everything pylti1p3-specific lives in this package so a swap to a maintained fork touches only
``lti_tool/lti/``. The subclasses below close the known gaps of pylti1p3 2.0.0:

* a clock leeway for ``iat``/``exp`` (platform clocks a few seconds fast fail every launch),
* platform keys cached in shared storage and refetched once when an unknown ``kid`` appears,
* used nonces recorded, so an identical launch posted twice is refused,
* a missing or malformed ``aud`` raises a clear ``LtiException`` instead of a bare error,
* claims too long or of the wrong type for the database refuse the launch before anything is stored.
"""
from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta, timezone

import jwt
from jwcrypto.jwk import JWK
from flask import current_app, render_template, url_for
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import DisableSessionId
from sqlalchemy.exc import IntegrityError

from ..extensions import cache, db
from ..models import UsedNonce, utcnow
from . import claims, outbound
from .cookies import PartitionedCookieService
from .storage import ASYNC_COMMIT, LaunchStorage, cache_commit_deferred, launch_data_storage
from .tool_config import DatabaseToolConf


class LaunchRefused(LtiException):
    """A launch refused for a reason the tool itself detected; ``kind`` picks the advice shown."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# This process's copy of the platforms' key sets (key set URL -> (monotonic deadline, key set)), in front
# of the shared cache, so a launch does not read the same key set from the database or Redis each time.
# An unknown kid drops it (get_public_key), as it drops the shared copy.
_KEY_SETS: dict[str, tuple[float, object]] = {}
LOCAL_KEY_SET_SECONDS = 60


# Platform public keys converted from JWK to PEM (canonical JWK JSON -> PEM), so a launch does not redo
# the conversion; which key a token names is still looked up in the key set on every launch. Bounded:
# key sets rotate rarely, and a cleared memo costs one conversion per key.
_PEMS: dict[str, bytes] = {}
PEMS_MAX = 64


def _pem_of(jwk: dict) -> bytes:
    text = json.dumps(jwk, sort_keys=True)
    pem = _PEMS.get(text)
    if pem is None:
        try:
            pem = JWK.from_json(text).export_to_pem()
        except (ValueError, TypeError) as e:
            raise LtiException("Can't convert JWT key to PEM format") from e
        if len(_PEMS) >= PEMS_MAX:
            _PEMS.clear()
        _PEMS[text] = pem
    return pem


class ToolMessageLaunch(FlaskMessageLaunch):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_public_key_caching(
            self._launch_data_storage_for_keys(),
            cache_lifetime=current_app.config["LTI_PLATFORM_KEYS_CACHE_SECONDS"],
        )

    @staticmethod
    def _launch_data_storage_for_keys():
        storage = launch_data_storage()
        storage.set_request(FlaskRequest())
        return storage

    def validate_state(self):
        self._prefetch_state_and_nonce()
        return super().validate_state()

    def _prefetch_state_and_nonce(self) -> None:
        """Read the state's token hash (validate_state) and the nonce (validate_nonce) in one round trip."""
        state = self._get_request_param("state")
        if not state:
            return
        # The token hash exists only once a launch with this state has been validated; that launch used
        # the nonce, so a second one is refused as a replay whatever the hash says. Its Redis miss (the
        # usual case) is therefore not looked for in the database, which would cost a query per launch.
        token_hash = self._session_service._get_key(state + "-id-token-hash")
        keys = [token_hash]
        try:
            self.validate_jwt_format()
        except LtiException:
            pass  # raised again, in pylti1p3's order, once the state is checked
        else:
            nonce = self._jwt["body"].get("nonce") if isinstance(self._jwt.get("body"), dict) else None
            if nonce and isinstance(nonce, str):
                keys.append(self._session_service._get_key("nonce", nonce))
        self._storage().prefetch(*keys, redis_miss_is_final=(token_hash,))

    def validate_jwt_format(self):
        if getattr(self, "_format_validated", False):
            return self  # already decoded for the prefetch
        super().validate_jwt_format()
        self._format_validated = True
        return self

    def get_client_id(self) -> str:
        aud = self._get_jwt_body().get("aud")
        if isinstance(aud, list):
            azp = self._get_jwt_body().get("azp")
            if not aud or not all(isinstance(a, str) for a in aud):
                raise LaunchRefused("bad_token", "The id_token has an empty or malformed audience (aud).")
            if len(aud) > 1 and azp not in aud:
                raise LaunchRefused("bad_token", "The id_token has several audiences but no matching azp.")
            return azp if len(aud) > 1 else aud[0]
        if not isinstance(aud, str) or not aud:
            raise LaunchRefused("bad_token", "The id_token has no audience (aud).")
        return aud

    def validate_jwt_signature(self):
        id_token = self._get_id_token()
        public_key, key_alg = self.get_public_key()
        try:
            jwt.decode(
                id_token,
                public_key,
                algorithms=[key_alg],
                options={"verify_aud": False, "require": ["exp", "iat"]},
                leeway=current_app.config["LTI_CLOCK_LEEWAY_SECONDS"],
            )
        except jwt.ExpiredSignatureError as e:
            raise LaunchRefused("expired", f"The id_token has expired: {e}") from e
        except jwt.InvalidTokenError as e:
            raise LaunchRefused("bad_token", f"Can't decode id_token: {e}") from e
        return self

    def fetch_public_key(self, key_set_url: str):
        held = _KEY_SETS.get(key_set_url)
        if held is not None and held[0] > time.monotonic():
            return held[1]
        key_set = super().fetch_public_key(key_set_url)
        lifetime = min(LOCAL_KEY_SET_SECONDS, current_app.config["LTI_PLATFORM_KEYS_CACHE_SECONDS"])
        if lifetime > 0:
            _KEY_SETS[key_set_url] = (time.monotonic() + lifetime, key_set)
        return key_set

    def get_public_key(self):
        try:
            return self._platform_key()
        except LtiException as e:
            key_set_url = self._registration.get_key_set_url() if self._registration else None
            if "Unable to find public key" not in str(e) or not key_set_url:
                raise
            # The platform may have rotated its keys: drop the cached set and fetch once more.
            storage = self._public_key_cache_data_storage
            _KEY_SETS.pop(key_set_url, None)
            with DisableSessionId(storage):
                raw_key = "key-set-url-" + hashlib.md5(key_set_url.encode("utf-8")).hexdigest()
                cache.delete(storage._prepare_key(raw_key))
            self._registration.set_key_set(None)
            return self._platform_key()

    def _platform_key(self) -> tuple[bytes, str]:
        """pylti1p3's get_public_key (the key set's key with the token's kid and alg), with the JWK
        turned into PEM once per key and process rather than on every launch."""
        registration = self._registration
        key_set = registration.get_key_set()
        if not key_set:
            key_set_url = registration.get_key_set_url()
            if not key_set_url or not key_set_url.startswith(("http://", "https://")):
                raise LtiException(f"Invalid URL: {key_set_url}")
            key_set = self.fetch_public_key(key_set_url)
            registration.set_key_set(key_set)
        header = self._jwt.get("header", {})
        kid, alg = header.get("kid"), header.get("alg")
        if not kid:
            raise LtiException("JWT KID not found")
        if not alg:
            raise LtiException("JWT ALG not found")
        for key in key_set["keys"]:
            if key.get("kid") and key.get("kid") == kid and key.get("alg", "RS256") == alg:
                return _pem_of(key), alg
        raise LtiException("Unable to find public key")

    def save_launch_data(self):
        # Runs after the signature is verified and before anything is stored.
        problems = claims.problems(self._get_jwt_body())
        if problems:
            raise LaunchRefused("bad_claims", "The launch's claims cannot be stored: " + "; ".join(problems) + ".")
        self._record_nonce()
        # The launch data and the state's token hash: one set_many, committed with the launch's rows
        # (sync_launch) in one commit.
        with cache_commit_deferred(), self._storage().deferred_writes():
            return super().save_launch_data()

    def _storage(self) -> LaunchStorage:
        """The launch storage every launch here is built with (``launch_data_storage()``)."""
        return self._session_service.data_storage

    def _record_nonce(self) -> None:
        """Refuse a second launch carrying the same nonce (pylti1p3 never marks nonces used)."""
        body = self._get_jwt_body()
        exp = body.get("exp")
        expires = (
            datetime.fromtimestamp(exp, timezone.utc).replace(tzinfo=None)
            if isinstance(exp, (int, float)) else utcnow()
        ) + timedelta(seconds=current_app.config["LTI_CLOCK_LEEWAY_SECONDS"])
        postgres = db.session.get_bind().dialect.name == "postgresql"
        try:
            # Written, not committed: it commits with the launch, and a concurrent replay blocks on
            # the unique index until then and fails. (Core: no ORM object is needed for it.) On
            # PostgreSQL its RETURNING also turns off synchronous_commit for the launch's transaction,
            # with Redis as without (docs/security.md, "Trade-offs made for launch speed").
            result = db.session.execute(_INSERT_NONCE_ASYNC if postgres else _INSERT_NONCE, {
                "issuer": body["iss"], "nonce": str(body.get("nonce")), "expires_at": expires})
            if postgres:
                result.all()
        except IntegrityError as e:
            db.session.rollback()
            raise LaunchRefused("replay", "This launch was already used (replayed nonce).") from e


_INSERT_NONCE = UsedNonce.__table__.insert()
_INSERT_NONCE_ASYNC = _INSERT_NONCE.returning(ASYNC_COMMIT)


def purge_used_nonces() -> int:
    count = db.session.execute(db.delete(UsedNonce).where(UsedNonce.expires_at < utcnow())).rowcount
    db.session.commit()
    return count


def tool_conf() -> DatabaseToolConf:
    return DatabaseToolConf()


def oidc_login() -> "ToolOIDCLogin":
    request = FlaskRequest()
    return ToolOIDCLogin(
        request,
        tool_conf(),
        cookie_service=PartitionedCookieService(request),
        launch_data_storage=launch_data_storage(),
    )


def message_launch() -> ToolMessageLaunch:
    request = FlaskRequest()
    return ToolMessageLaunch(
        request,
        tool_conf(),
        cookie_service=PartitionedCookieService(request),
        launch_data_storage=launch_data_storage(),
        requests_session=outbound.LazySession(),
    )


def restore_launch(launch_id: str) -> ToolMessageLaunch:
    """Rebuild a validated launch from shared storage (for deep linking and LTI services)."""
    request = FlaskRequest()
    return ToolMessageLaunch.from_cache(
        launch_id,
        request,
        tool_conf(),
        cookie_service=PartitionedCookieService(request),
        launch_data_storage=launch_data_storage(),
        requests_session=outbound.LazySession(),
    )


class ToolOIDCLogin(FlaskOIDCLogin):
    """OIDC login whose cookie check page is our own accessible, CSP-friendly template."""

    def get_cookies_allowed_js_check(self) -> str:
        self.validate_oidc_login()  # refuse an unknown platform before the cookie check page
        params = {"lti1p3_new_window": "1"}
        for key in ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id"):
            value = self._get_request_param(key)
            if value:
                params[key] = value
        return render_template("lti/cookie_check.html", params=params,
                               new_window_url=url_for("lti.login", **params))
