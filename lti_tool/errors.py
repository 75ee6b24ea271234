"""Error pages in plain words: what the learner can do, what the administrator should fix."""
from __future__ import annotations

import logging

from flask import Flask, g, render_template, session
from flask_babel import lazy_gettext as _l
from pylti1p3.exception import LtiException, OIDCException
from redis import RedisError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .extensions import db, rollback_or_close
from .jobs import QueueUnavailable
from .lti.launch import LaunchRefused
from .observability import REFUSALS
from .security import frame_ancestors

log = logging.getLogger(__name__)

# kind -> (status, title, what the learner can do, what the administrator should check)
ADVICE = {
    "unknown_platform": (403, _l("This LMS is not registered with the lab"),
                         _l("Tell your course team; there is nothing you can do from here."),
                         _l("Register the platform (issuer and client id) with Dynamic Registration or "
                            "`flask --app lti_tool platform add`. See /lti/setup.")),
    "unknown_deployment": (403, _l("This deployment of the lab is not registered"),
                           _l("Tell your course team; there is nothing you can do from here."),
                           _l("Add the deployment id sent by the LMS with `platform add --deployment-id`.")),
    "expired": (400, _l("The launch took too long"),
                _l("Go back to your course and open the lab again."),
                _l("If this happens often, check the LMS server's clock (NTP).")),
    "bad_token": (400, _l("The launch could not be verified"),
                  _l("Go back to your course and open the lab again."),
                  _l("The id_token's signature, audience or format is wrong: check the client id and the "
                     "platform's key set URL in the registration.")),
    "replay": (400, _l("This launch was already used"),
               _l("Go back to your course and open the lab again; do not use the browser's back button."),
               _l("The same id_token was posted twice; nothing was changed.")),
    "state": (400, _l("Your browser did not keep the lab's sign-in cookie"),
              _l("Allow cookies for this site, or open the lab in a new window, then try again from your course."),
              _l("The state cookie was missing: the browser blocks third-party cookies in the iframe. "
                 "Set the link to open in a new window if this persists.")),
    "login": (400, _l("The sign-in request from the LMS was incomplete"),
              _l("Go back to your course and open the lab again."),
              _l("Login initiation needs iss, login_hint and target_link_uri; check the registration URLs.")),
    "bad_claims": (400, _l("The LMS sent details the lab cannot accept"),
                   _l("Tell your course team; opening the lab again will not help."),
                   _l("A launch claim is too long or of the wrong type (the log entry with this request id names "
                      "it); check the LMS's user, course and link data.")),
    "invalid": (400, _l("The launch was not accepted"),
                _l("Go back to your course and open the lab again."),
                _l("See the log entry with this request id for the reason.")),
}


def classify(error: Exception) -> str:
    if isinstance(error, LaunchRefused):
        return error.kind
    message = str(error)
    if "registration" in message.lower() or "Client id not registered" in message:
        return "unknown_platform"
    if "deployment" in message.lower():
        return "unknown_deployment"
    if "State not found" in message or "Missing state" in message or "cookie" in message.lower():
        return "state"
    if "Nonce" in message or '"nonce"' in message:
        return "replay" if "Invalid" not in message else "state"
    if "public key" in message or "JWT" in message or "id_token" in message:
        return "bad_token"
    if isinstance(error, OIDCException):
        return "login"
    return "invalid"


def _end_session_without_database() -> None:
    """Roll back, and draw the error page without needing the database when it is what failed.

    The rollback expires every object the request loaded, so the page's header (the person's name, the
    course) and the CSP header (the LMS allowed to frame the page) reload them: while the database is down
    that failed a second time, inside the error handler, and the person got the server's bare 500 instead
    of this page. When the header cannot be reloaded, the page goes without the person's name and menu
    (the LMS origins allowed to frame it, taken with the launch context, are kept)."""
    if g.get("lti") is not None and "frame_origins" not in g:
        g.frame_origins = frame_ancestors()  # kept when the person is dropped from the page below
    rollback_or_close()
    lti = g.get("lti")
    if lti is not None:
        try:
            _shown = (lti.user.name, lti.course and lti.course.title)  # what base.html shows, reloaded
        except SQLAlchemyError:
            rollback_or_close()
            g.lti = None


def init_app(app: Flask) -> None:
    @app.errorhandler(LtiException)
    @app.errorhandler(OIDCException)
    def launch_refused(error):
        db.session.rollback()
        session.clear()
        kind = classify(error)
        status, title, learner, admin = ADVICE[kind]
        REFUSALS.labels(kind=kind).inc()
        log.warning("LTI refusal kind=%s request_id=%s reason=%s", kind, g.get("request_id"), error)
        return render_template("errors/launch.html", title=title, learner_advice=learner,
                               admin_advice=admin, kind=kind, request_id=g.get("request_id")), status

    @app.errorhandler(QueueUnavailable)
    @app.errorhandler(RedisError)
    @app.errorhandler(OperationalError)
    def unavailable(error):
        """A service the lab needs (database, Redis, the job queue) is not answering: a page that says so."""
        _end_session_without_database()
        part = "database" if isinstance(error, OperationalError) else "job queue" if isinstance(
            error, QueueUnavailable) else "redis"
        log.error("Service unavailable part=%s request_id=%s error=%s", part, g.get("request_id"), error)
        page = render_template("errors/error.html", title=_l("The lab is unavailable for a minute"),
                               message=_l("Part of the lab's service is not answering. Please try again in a "
                                          "minute; if it keeps happening, tell your course team."),
                               request_id=g.get("request_id"))
        return page, 503, {"Retry-After": "60"}

    def simple(status: int, title, message):
        def handler(error):
            if status >= 500:
                _end_session_without_database()
                log.exception("Unhandled error request_id=%s", g.get("request_id"))
            return render_template("errors/error.html", title=title, message=message,
                                   request_id=g.get("request_id")), status
        return handler

    app.register_error_handler(400, simple(400, _l("Bad request"), _l("The request could not be understood.")))
    app.register_error_handler(401, simple(401, _l("Please open the lab from your course"),
                                           _l("Your session has ended or you opened this page directly. "
                                              "Go back to your LMS course and open the lab from there.")))
    app.register_error_handler(403, simple(403, _l("Not available to you"),
                                           _l("This page is for another role or another course.")))
    app.register_error_handler(404, simple(404, _l("Page not found"), _l("There is nothing at this address.")))
    app.register_error_handler(405, simple(405, _l("Not allowed"), _l("This address does not accept that request.")))
    app.register_error_handler(413, simple(413, _l("Too large"),
                                           _l("What you sent is larger than the lab accepts. Send a smaller file "
                                              "or shorter text.")))
    app.register_error_handler(500, simple(500, _l("Something went wrong"),
                                           _l("The error was logged. Please try again in a moment.")))
