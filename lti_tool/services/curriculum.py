"""The lab's sessions and reflection prompts, read from ``lab_curriculum`` (one source for app and kit)."""
from __future__ import annotations

from functools import lru_cache

ACTION_PLAN_MARKER = "action-plan"
GAIN_SELF, GAIN_PARTNER, LEARNED = "gain_self", "gain_partner", "learned_from_partner"


@lru_cache(maxsize=1)
def curriculum():
    from lab_curriculum import load_curriculum

    return load_curriculum()


def reflective_sessions() -> list:
    """Sessions that ask for a reflection: every session but breaks, in programme order."""
    return [s for s in curriculum().sessions if s.kind != "break" and s.prompts]


def session(session_id: str):
    for s in reflective_sessions():
        if s.id == session_id:
            return s
    return None


def action_plan_session_id() -> str | None:
    for s in reflective_sessions():
        if ACTION_PLAN_MARKER in s.id:
            return s.id
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
