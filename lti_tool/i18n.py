"""Language and time zone of the person viewing a page: Flask-Babel's selectors and a date filter.

Language: the locale the LMS sent in the launch (``launch_presentation.locale``, kept in the session),
when a catalogue exists for it or for its language; otherwise the browser's Accept-Language best
match among the catalogues; otherwise English. Time zone: a learner's intake time zone, else their
cohort's; a facilitator sees a cohort's pages in the cohort's time zone; anyone else sees UTC.
Timestamps are stored as naive UTC and converted only when shown (``local_datetime``).
"""
from __future__ import annotations

from datetime import datetime

import pytz
from babel import negotiate_locale
from flask import Flask, current_app, g, has_request_context, request
import flask_babel
from flask_babel import format_datetime, get_locale, get_timezone

from .extensions import babel, db
from .models import Cohort, Participant
from .states import ParticipantStatus

DEFAULT_LOCALE = "en"


def available_locales() -> list[str]:
    """Locales with a compiled catalogue, plus the default (whose source text needs none).

    Looked up once per app: Flask-Babel lists the translation directories on every call, i.e. on
    every request, and it keeps the catalogues it loaded for the life of the process anyway.
    """
    found = current_app.extensions.get("rml_locales")
    if found is None:
        found = current_app.extensions["rml_locales"] = [str(locale) for locale in babel.list_translations()]
    return list(found)


def best_locale(tags, available: list[str]) -> str | None:
    """The first of ``tags`` (BCP 47, most wanted first) with a catalogue: the exact one, or failing
    that its shorter forms ("fr-CA" -> "fr"), before the next tag is tried."""
    by_lower = {locale.lower(): locale for locale in available}
    found = negotiate_locale([tag.replace("-", "_") for tag in tags], list(by_lower), sep="_", aliases=None)
    return by_lower.get(found.lower()) if found else None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE
    available = available_locales()
    lti = g.get("lti")
    if lti is not None and lti.locale:
        match = best_locale([lti.locale], available)
        if match:
            return match
    # The browser's preferences in its order of quality (Werkzeug's own best_match would prefer an
    # exact "fr;q=0.5" over "de-AT;q=0.8" when only "de" exists).
    wanted = [tag for tag, quality in request.accept_languages if quality > 0 and tag != "*"]
    return best_locale(wanted, available) or DEFAULT_LOCALE


def page_lang() -> str:
    """The BCP 47 tag of the language the page is actually served in (for ``<html lang>``)."""
    return str(get_locale() or DEFAULT_LOCALE).replace("_", "-")


def _zone(name: str | None):
    if not name:
        return None
    try:
        return pytz.timezone(name)
    except pytz.UnknownTimeZoneError:
        return None


def viewer_timezone_name(user_id: int, course_id: int, cohort_id: int | None) -> str | None:
    """The IANA zone to show times in for this user in this course (and cohort, when the page is one)."""
    query = (db.select(Participant.timezone, Cohort.timezone)
             .join(Cohort, Cohort.id == Participant.cohort_id)
             .where(Participant.user_id == user_id, Cohort.course_id == course_id)
             .order_by((Participant.status == ParticipantStatus.ENROLLED).desc(), Participant.joined_at.desc(),
                       Participant.id.desc())
             .limit(1))
    if cohort_id is not None:
        query = query.where(Cohort.id == cohort_id)
    row = db.session.execute(query).first()
    if row is not None:
        return row[0] or row[1]
    if cohort_id is not None:  # not a participant (a facilitator): the cohort's own time zone
        return db.session.execute(db.select(Cohort.timezone).where(
            Cohort.id == cohort_id, Cohort.course_id == course_id)).scalar()
    return None


def select_timezone():
    """Flask-Babel asks this once per request, and only when something is formatted."""
    if not has_request_context():
        return None
    lti = g.get("lti")
    if lti is None or lti.course is None:
        return None
    cohort_id = (request.view_args or {}).get("cohort_id")
    return _zone(viewer_timezone_name(lti.user.id, lti.course.id, cohort_id))


def local_datetime(value: datetime | None, format: str = "medium", zone: bool = True) -> str:
    """A naive-UTC timestamp from the database in the viewer's time zone and language.

    With ``zone`` the IANA name follows in brackets, so nobody has to guess which clock is meant.
    """
    if value is None:
        return ""
    text = format_datetime(value, format)
    return f"{text} ({get_timezone().zone})" if zone else text


def page_translations():
    """Flask-Babel's translations for this request's language, looked up once per language and request.

    Flask-Babel finds them anew on each call (three context-local reads and the locale turned into a
    string): about 18 µs for each of the dozens of strings a page translates. The memo is keyed by the
    locale object, so ``flask_babel.refresh()`` (a launch that changed the language) is followed."""
    if not has_request_context():
        return flask_babel.get_translations()
    locale = get_locale()
    held = g.get("_rml_translations")
    if held is None or held[0] is not locale:
        held = g._rml_translations = (locale, flask_babel.get_translations())
    return held[1]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(  # replaces Flask-Babel's, which look the translations up each time
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["format_date"] = flask_babel.format_date  # a date in the reader's language
    app.jinja_env.globals["page_lang"] = page_lang
