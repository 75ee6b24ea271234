"""pylti1p3 wrapped with the fixes a production tool needs.

Everything pylti1p3-specific lives in this package so a swap to a maintained fork touches only
``lti_tool/lti/``. The subclasses below close the known gaps of pylti1p3 2.0.0:

* a clock leeway for ``iat``/``exp`` (platform clocks a few seconds fast fail every launch),
* platform keys cached in shared storage and refetched once when an unknown ``kid`` appears,
* used nonces recorded, so an identical launch posted twice is refused,
* the nonce derived from the login's state (nothing stored at login) and launch data kept only for
  deep linking, the one flow that reads it again,
* a missing or malformed ``aud`` raises a clear ``LtiException`` instead of a bare error,
* claims too long or of the wrong type for the database refuse the launch before anything is stored.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import jwt
from jwcrypto.jwk import JWK
from flask import current_app, render_template, url_for
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest, FlaskSessionService
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.base import DisableSessionId

from ..extensions import cache, db
from ..models import UsedNonce, utcnow
from . import claims, outbound
from .cookies import PartitionedCookieService
from .storage import cache_commit_deferred, launch_data_storage
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


def oidc_nonce(state: str) -> str:
    """The nonce a login asks the LMS to sign into its id_token: an HMAC of the login's state.

    The state also sits in an HttpOnly cookie of the browser that logged in, and a launch must bring both
    back, so the launch recomputes the nonce from the state instead of looking up a stored one (OpenID
    Connect Core suggests this: the nonce as a keyed hash of a value kept in the browser's cookie). A
    nonce is good with its own login's state only, and used nonces are still recorded against replay."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"oidc-nonce\0" + state.encode(), hashlib.sha256).hexdigest()


class ToolSessionService(FlaskSessionService):
    """pylti1p3's session service without the two records this tool does not need.

    The nonce is not stored (``oidc_nonce``). The state's "already validated with this id_token" mark
    lets pylti1p3 accept the same id_token posted again without the state cookie; here a second post
    of a token is refused as a replay whatever the mark says, so it is neither written nor read."""

    def save_nonce(self, nonce: str) -> None:
        pass

    def check_nonce(self, nonce: str) -> bool:  # pragma: no cover - ToolMessageLaunch checks the nonce itself
        raise NotImplementedError("the nonce is checked against the state (ToolMessageLaunch.validate_nonce)")

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        pass

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False


class ToolMessageLaunch(FlaskMessageLaunch):
    used_nonce: dict | None = None  # set by a validation; sync_launch records it

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

    def validate_nonce(self):
        """The token's nonce must be the one its login derived from the state (checked before this)."""
        nonce = self._get_jwt_body().get("nonce")
        if not nonce:
            raise LtiException('"nonce" is empty')
        state = self._get_request_param("state")
        if not isinstance(nonce, str) or not state or not hmac.compare_digest(nonce, oidc_nonce(state)):
            raise LtiException("Invalid Nonce")
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
        self.used_nonce = self._used_nonce()
        if not self.is_deep_link_launch():
            return self  # only the deep linking picker reads a launch's data again (restore_launch)
        with cache_commit_deferred():  # committed with the launch's rows (sync_launch) in one commit
            return super().save_launch_data()

    def _used_nonce(self) -> dict:
        """The row that refuses a second launch carrying this nonce (pylti1p3 never marks nonces used).

        ``sync_launch`` writes it with the launch's first statement, uncommitted: it commits with the
        launch, and a concurrent replay blocks on the unique index until then and fails."""
        body = self._get_jwt_body()
        exp = body.get("exp")
        expires = (
            datetime.fromtimestamp(exp, timezone.utc).replace(tzinfo=None)
            if isinstance(exp, (int, float)) else utcnow()
        ) + timedelta(seconds=current_app.config["LTI_CLOCK_LEEWAY_SECONDS"])
        return {"issuer": body["iss"], "nonce": str(body.get("nonce")), "expires_at": expires}


def purge_used_nonces() -> int:
    count = db.session.execute(db.delete(UsedNonce).where(UsedNonce.expires_at < utcnow())).rowcount
    db.session.commit()
    return count


def tool_conf() -> DatabaseToolConf:
    return DatabaseToolConf()


def _services(request: FlaskRequest) -> dict:
    """What every login and launch here is built with: this tool's session, cookie and storage services."""
    return {"session_service": ToolSessionService(request), "cookie_service": PartitionedCookieService(request),
            "launch_data_storage": launch_data_storage()}


def oidc_login() -> "ToolOIDCLogin":
    request = FlaskRequest()
    return ToolOIDCLogin(request, tool_conf(), **_services(request))


def message_launch() -> ToolMessageLaunch:
    request = FlaskRequest()
    return ToolMessageLaunch(request, tool_conf(), **_services(request), requests_session=outbound.LazySession())


def restore_launch(launch_id: str) -> ToolMessageLaunch | None:
    """Rebuild a validated deep linking launch from shared storage; None when none is stored (any other
    launch, or one whose data expired)."""
    request = FlaskRequest()
    try:
        return ToolMessageLaunch.from_cache(launch_id, request, tool_conf(), **_services(request),
                                            requests_session=outbound.LazySession())
    except LtiException as e:
        if "Launch data not found" not in str(e):
            raise
        return None


class ToolOIDCLogin(FlaskOIDCLogin):
    """OIDC login whose nonce is derived from its state (``oidc_nonce``) and whose cookie check page is
    our own accessible, CSP-friendly template."""

    _last_uuid = None

    def _get_uuid(self) -> str:
        # pylti1p3 makes the state "state-" + the last of these before it asks for the nonce.
        self._last_uuid = super()._get_uuid()
        return self._last_uuid

    def _generate_nonce(self) -> str:
        return oidc_nonce("state-" + self._last_uuid)

    def _prepare_redirect_url(self, launch_url: str) -> str:
        url = super()._prepare_redirect_url(launch_url)
        if f"&state=state-{self._last_uuid}&" not in url:
            raise RuntimeError("pylti1p3 no longer makes the state as this tool expects: the nonce would not match it")
        return url

    def get_cookies_allowed_js_check(self) -> str:
        self.validate_oidc_login()  # refuse an unknown platform before the cookie check page
        params = {"lti1p3_new_window": "1"}
        for key in ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id"):
            value = self._get_request_param(key)
            if value:
                params[key] = value
        return render_template("lti/cookie_check.html", params=params,
                               new_window_url=url_for("lti.login", **params))
