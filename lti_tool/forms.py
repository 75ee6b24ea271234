"""The base of every form: Flask-WTF's CSRF, with WTForms' own messages in the request's language.

Flask-WTF parses WTForms' message catalogue from disk again on every request that shows or checks a form
(a launch's landing page among them); a catalogue does not change while the process runs, so each
language's is parsed once and kept.
"""
from __future__ import annotations

import threading

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

_CATALOGUES: dict[str, support.Translations] = {}
_LOCK = threading.Lock()


def wtforms_catalogue(locale) -> support.Translations:
    """WTForms' messages for ``locale`` (English when it has none), parsed on first use."""
    key = str(locale)
    catalogue = _CATALOGUES.get(key)
    if catalogue is None:
        with _LOCK:
            catalogue = _CATALOGUES.get(key)
            if catalogue is None:
                catalogue = _CATALOGUES[key] = support.Translations.load(messages_path(), [key], domain="wtforms")
    return catalogue


class LabForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_catalogue(get_locale())
