"""Answer a launch with the landing page itself instead of a redirect to it.

A 303 after the launch POST costs the browser a second round trip and the tool a second request
(session cookie decoded, the launched user loaded, every hook run again) on the busiest moment of a
course: everyone opening the lab at once. Instead the launch dispatches the landing view in place,
as a GET in a nested request that shares the launch's session, and answers 200 with its page. The
page's first script replaces the address (``/lti/launch``) with the landing page's own, so a reload
or a bookmark is a plain GET and never re-posts the spent id_token.

Only the request side of Flask's dispatch runs in the nested request (before_request hooks, the view,
and the handlers of a 4xx): its response is the launch's, so the after_request hooks (metrics, access
log, security headers, session cookie, scores) run once, on the launch's way out.
"""
from __future__ import annotations

import io

import flask_babel
from flask import Response, current_app, g, request, session, url_for
from flask.ctx import RequestContext
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..extensions import db

# What describes the POST body: the landing request is a GET without one.
_BODY_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH", "QUERY_STRING", "wsgi.input", "werkzeug.request")


def landing_response(endpoint: str) -> Response:
    """The response of ``endpoint`` as if the browser had followed a redirect to it."""
    app = current_app._get_current_object()
    path = url_for(endpoint)
    environ = {k: v for k, v in request.environ.items() if k not in _BODY_KEYS}
    environ.update(REQUEST_METHOD="GET", PATH_INFO=path, QUERY_STRING="", CONTENT_LENGTH="0",
                   HTTP_X_REQUEST_ID=g.request_id)  # one response, one request id in the logs
    environ["wsgi.input"] = io.BytesIO(b"")
    g.landing_url = path
    flask_babel.refresh()  # the launch may have changed the session's language
    # Only a 4xx (or a redirect) of the page is answered here. Anything else it raises goes to the launch
    # (lti/routes.py), which first keeps its rows, then lets the error handlers answer: they roll back,
    # which inside the nested request undid the launch's rows and used nonce while its session was sent.
    with RequestContext(app, environ, session=session._get_current_object()):
        try:
            page = app.preprocess_request()
            if page is None:
                page = app.dispatch_request()
        except HTTPException as error:
            if error.code is not None and error.code >= 500:
                raise
            page = app.handle_user_exception(error)
        return app.make_response(page)


def keep_launch_after_failed_landing() -> None:
    """The landing page raised: keep the launch's rows (still uncommitted) if the transaction can be
    committed, so a broken page does not also lose the person's first launch; the error page follows.
    When they cannot be kept, neither is the launch's session (it would name rows that do not exist)."""
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        session.clear()
