"""The lab's sessions and reflection prompts, read from ``lab_curriculum`` (one source for app and kit).

Titles, prompts and the follow-up agenda are in the language of the current locale (Flask-Babel's
``get_locale()``: the page's reader, or the recipient inside ``force_locale`` when mail and invites are
rendered); ids, times and structure are the same in every language, so stored answers (keyed by
prompt and session id) read the same in all of them.
"""
from __future__ import annotations

from functools import lru_cache

from flask import has_app_context
from flask_babel import get_locale

GAIN_SELF, GAIN_PARTNER, LEARNED = "gain_self", "gain_partner", "learned_from_partner"


@lru_cache(maxsize=8)
def _loaded(locale: str):
    from lab_curriculum import load_curriculum

    return load_curriculum(locale=locale)


def curriculum(locale: str | None = None):
    """The curriculum in ``locale``, else in the current locale (English outside an app context)."""
    if locale is None and has_app_context():
        locale = str(get_locale() or "")
    return _loaded(locale or "en")


def half_day_reflections() -> list:
    """The lab's reflections: one short one per half day, in programme order (prompts from the curriculum)."""
    return list(curriculum().half_day_reflections)


def half_day(reflection_id: str):
    """The half-day reflection with this id (d1-morning, ...), or None."""
    return next((r for r in curriculum().half_day_reflections if r.id == reflection_id), None)


def reflection_titles() -> dict[str, str]:
    """Title of every id a stored reflection may carry: a half day, or a session (reflections written
    per session before the lab asked for one per half day)."""
    titles = {s.id: s.title for s in curriculum().sessions}
    titles.update({r.id: r.title for r in curriculum().half_day_reflections})
    return titles


def prompt_texts() -> dict[str, str]:
    """Prompt id -> its wording (a session's wording first: it reads well for earlier reflections)."""
    texts = {p.id: p.text for r in reversed(curriculum().half_day_reflections) for p in r.prompts}
    texts.update({p.id: p.text for s in curriculum().sessions for p in s.prompts})
    return texts


def reflective_sessions() -> list:
    """Sessions that carry their own prompts (breaks never): reflections were once asked per session."""
    return [s for s in curriculum().sessions if s.kind != "break" and s.prompts]


def session(session_id: str):
    for s in reflective_sessions():
        if s.id == session_id:
            return s
    return None


def session_ids_by_day() -> dict[int, set[str]]:
    days: dict[int, set[str]] = {}
    for s in curriculum().sessions:
        days.setdefault(int(s.day), set()).add(s.id)
    return days


def working_session_ids_by_day() -> dict[int, set[str]]:
    """Each day's sessions without breaks: a day counts as attended when all of them are recorded present."""
    days: dict[int, set[str]] = {}
    for s in curriculum().sessions:
        if not s.is_break:
            days.setdefault(int(s.day), set()).add(s.id)
    return days
