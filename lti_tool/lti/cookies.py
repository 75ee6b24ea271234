"""Cookies that survive inside an LMS iframe: Secure; SameSite=None; Partitioned over HTTPS.

pylti1p3 sets ``SameSite=None`` on its ``lti1p3-*`` cookies but never ``Partitioned`` (CHIPS),
which browsers that block third-party cookies need. Over plain HTTP (local development only)
both fall back to ``Lax``, the browser default, because ``SameSite=None`` requires ``Secure``.
"""
from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface
from pylti1p3.contrib.flask import FlaskCookieService


class PartitionedCookieService(FlaskCookieService):
    def update_response(self, response):
        secure = self._request.is_secure()
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(
                key=key,
                value=data["value"],
                max_age=data["exp"],
                path="/",
                httponly=True,
                secure=secure,
                samesite="None" if secure else "Lax",
                partitioned=secure,
            )


class IframeSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with cookie attributes chosen per request."""

    def get_cookie_secure(self, app) -> bool:
        return bool(request) and request.is_secure

    def get_cookie_samesite(self, app) -> str:
        return "None" if bool(request) and request.is_secure else "Lax"

    def get_cookie_partitioned(self, app) -> bool:
        return bool(request) and request.is_secure

