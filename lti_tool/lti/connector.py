"""Calls to LMS services (roster, scores) that reuse access tokens and ride out a busy LMS.

pylti1p3's ``ServiceConnector`` asks the platform for a new OAuth access token in every connector,
so 25 roster and score calls made 25 token requests. This connector:

* keeps each platform's token per scope set in the shared cache (Redis or the database), so every
  worker and instance reuses it until ``LTI_TOKEN_EXPIRY_MARGIN_SECONDS`` before it expires;
* answers a 401 from a service by dropping the cached token and retrying once with a fresh one
  (the LMS restarted, or revoked tokens early);
* backs off on 429 and 5xx (token endpoint and services alike): up to ``LTI_SERVICE_RETRIES``
  retries, honouring ``Retry-After`` but never waiting more than ``LTI_SERVICE_MAX_WAIT_SECONDS``.
  A POST is retried only on 429, 502, 503 and 504, where the LMS did not process it.
"""
from __future__ import annotations

import hashlib
import logging
import random
import time
import typing as t
import uuid
from email.utils import parsedate_to_datetime

import requests
from flask import current_app
from pylti1p3.exception import LtiServiceException
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from ..extensions import cache
from ..observability import LMS_SERVICE_RETRIES, LMS_TOKEN_REQUESTS

log = logging.getLogger(__name__)
RETRY_ANY = frozenset({429, 500, 502, 503, 504})
RETRY_POST = frozenset({429, 502, 503, 504})
BACKOFF_SECONDS = 0.5  # first wait without Retry-After; doubled each time, with jitter


class CachingServiceConnector(ServiceConnector):
    sleep = staticmethod(time.sleep)  # tests may replace it to observe the waits

    def __init__(self, registration: Registration, requests_session: requests.Session):
        super().__init__(registration, requests_session)
        config = current_app.config
        self.margin = config["LTI_TOKEN_EXPIRY_MARGIN_SECONDS"]
        self.retries = config["LTI_SERVICE_RETRIES"]
        self.max_wait = config["LTI_SERVICE_MAX_WAIT_SECONDS"]

    # --- tokens ---------------------------------------------------------------------------------
    def token_cache_key(self, scopes: t.Sequence[str]) -> str:
        """Per platform registration (issuer, client id, token URL) and sorted scope set."""
        registration = self._registration
        identity = "\n".join([registration.get_issuer() or "", registration.get_client_id() or "",
                              registration.get_auth_token_url() or "", *sorted(set(scopes))])
        return "lti-access-token:" + hashlib.sha256(identity.encode()).hexdigest()

    def get_access_token(self, scopes: t.Sequence[str]) -> str:
        key = self.token_cache_key(scopes)
        token = cache.get(key)
        if token:
            return token
        token, expires_in = self._request_token(scopes)
        lifetime = int(expires_in) - self.margin if isinstance(expires_in, (int, float)) else 0
        if lifetime > 0:  # a token without a usable lifetime is used once, never cached
            cache.set(key, token, timeout=lifetime)
        return token

    def forget_access_token(self, scopes: t.Sequence[str]) -> None:
        cache.delete(self.token_cache_key(scopes))

    def _request_token(self, scopes: t.Sequence[str]) -> tuple[str, t.Any]:
        """OAuth 2 client credentials with a signed JWT assertion (as pylti1p3 does), returning expires_in too."""
        registration = self._registration
        client_id, auth_url = registration.get_client_id(), registration.get_auth_token_url()
        assert client_id and auth_url, "a platform always has a client id and a token URL"
        kid = registration.get_kid()
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "scope": " ".join(sorted(set(scopes))),
        }

        def post():
            # a fresh assertion (new jti) for each attempt: the platform may refuse a replayed one
            now = int(time.time())
            claims = {"iss": client_id, "sub": client_id, "aud": registration.get_auth_audience() or auth_url,
                      "iat": now - 5, "exp": now + 60, "jti": "lti-service-token-" + str(uuid.uuid4())}
            form["client_assertion"] = self.encode_jwt(claims, registration.get_tool_private_key(),
                                                       {"kid": kid} if kid else {})
            return self._requests_session.post(auth_url, data=form)

        response = self._with_backoff(post, RETRY_ANY, what="token")
        if not response.ok:
            LMS_TOKEN_REQUESTS.labels(outcome="refused").inc()
            raise LtiServiceException(response)
        LMS_TOKEN_REQUESTS.labels(outcome="issued").inc()
        body = response.json()
        return body["access_token"], body.get("expires_in")

    # --- service calls ----------------------------------------------------------------------------
    def make_service_request(self, scopes, url, is_post=False, data=None, content_type="application/json",
                             accept="application/json", case_insensitive_headers=False):
        retryable = RETRY_POST if is_post else RETRY_ANY
        attempt = 0
        refreshed = False
        while True:
            try:
                return super().make_service_request(scopes, url, is_post=is_post, data=data,
                                                    content_type=content_type, accept=accept,
                                                    case_insensitive_headers=case_insensitive_headers)
            except LtiServiceException as e:
                status = e.response.status_code
                if status == 401 and not refreshed:
                    refreshed = True
                    LMS_SERVICE_RETRIES.labels(reason="401").inc()
                    log.info("LMS refused the access token for %s; retrying once with a fresh one", url)
                    self.forget_access_token(scopes)
                    continue
                if status in retryable and attempt < self.retries:
                    self._wait(e.response, attempt, what=url)
                    attempt += 1
                    continue
                raise

    def _with_backoff(self, send: t.Callable[[], requests.Response], retryable: frozenset[int], what: str):
        for attempt in range(self.retries + 1):
            response = send()
            if response.status_code not in retryable or attempt == self.retries:
                return response
            self._wait(response, attempt, what=what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, response: requests.Response, attempt: int, what: str) -> None:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None:
            seconds = BACKOFF_SECONDS * (2 ** attempt) * (1 + random.random() / 4)
        seconds = min(max(seconds, 0.0), self.max_wait)
        LMS_SERVICE_RETRIES.labels(reason=str(response.status_code)).inc()
        log.warning("LMS answered %s for %s; retrying in %.1f s", response.status_code, what, seconds)
        self.sleep(seconds)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()
