"""Headers for a tool that lives in an LMS iframe: CSP frame-ancestors, script nonces, request ids."""
from __future__ import annotations

import re
import secrets
import uuid

from flask import Flask, Response, abort, current_app, g, make_response, request

from .lti.registration import platform_origins

_UNNONCED_TAG = re.compile(r"<(script|style)(?![^>]*\bnonce=)", re.IGNORECASE)


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def with_script_nonce(response) -> Response:
    """Add this request's CSP nonce to inline <script>/<style> tags of an HTML response."""
    response = make_response(response)
    if response.mimetype == "text/html" and not 300 <= response.status_code < 400:  # a redirect's body is never shown
        body = response.get_data(as_text=True)
        response.set_data(_UNNONCED_TAG.sub(lambda m: f'<{m.group(1)} nonce="{csp_nonce()}"', body))
    return response


def frame_ancestors() -> list[str]:
    """Who may frame this response: only the LMS of the current launch, never every tenant's.

    In order: what the view set (the registration page: the registering LMS), the platform this
    request's login or launch named, or the platform of the signed-in launch (both loaded anyway,
    so no extra query). Nothing is cached per process, so every worker agrees the moment a
    platform is added or changed.
    """
    if "frame_origins" in g:
        return list(g.frame_origins)
    found = [p for p in g.get("_platform_lookups", {}).values() if p is not None]
    if not found and g.get("lti") is not None:
        return sorted(g.lti.frame_origins)  # not g.lti.platform: the request's commits expired it
    return sorted({o for p in found for o in platform_origins(p)})


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming) else uuid.uuid4().hex

    @app.before_request
    def refuse_oversized_body() -> None:
        """413 before any view runs: Werkzeug only checks MAX_CONTENT_LENGTH when the body is read."""
        limit = request.max_content_length
        if limit is not None and request.content_length is not None and request.content_length > limit:
            abort(413)

    @app.after_request
    def security_headers(response: Response) -> Response:
        ancestors = " ".join(["'self'", *frame_ancestors()])
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{csp_nonce()}'; "
            f"style-src 'self' 'nonce-{csp_nonce()}'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
            f"frame-ancestors {ancestors}"
        )
        if request.blueprint == "dev":
            # The development platform's course page embeds the tool, which may be on another site.
            base = current_app.config.get("PUBLIC_BASE_URL") or ""
            response.headers["Content-Security-Policy"] += f"; frame-src 'self' {base}".rstrip()
        # No X-Frame-Options: SAMEORIGIN would stop the LMS from embedding the tool.
        response.headers.pop("X-Frame-Options", None)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.path.startswith(("/lti/", "/learner", "/facilitator", "/insights")) and \
                "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
