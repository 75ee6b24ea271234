"""Language of the person viewing a page: Flask-Babel's locale selector.

Language: the locale the LMS sent in the launch (``launch_presentation.locale``, kept in the session),
when a catalogue exists for it or for its language; otherwise the browser's Accept-Language best
match among the catalogues; otherwise English.
"""
from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask_babel import get_locale

from .extensions import babel

DEFAULT_LOCALE = "en"


def available_locales() -> list[str]:
    """Locales with a compiled catalogue, plus the default (whose source text needs none)."""
    return [str(locale) for locale in babel.list_translations()]


def best_locale(tags, available: list[str]) -> str | None:
    """The first of ``tags`` (BCP 47, most wanted first) with a catalogue: the exact one, or failing
    that its shorter forms ("fr-CA" -> "fr"), before the next tag is tried."""
    by_lower = {locale.lower(): locale for locale in available}
    for tag in tags:
        parts = tag.replace("-", "_").lower().split("_")
        for n in range(len(parts), 0, -1):
            match = by_lower.get("_".join(parts[:n]))
            if match:
                return match
    return None


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


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["page_lang"] = page_lang
