"""Who may read which reflection answer. Every page and export asks here, nowhere else.

Levels a learner picks per answer:
- ``me``: only the author. Nobody else, ever (not the facilitator, not L&D); a rating marked so still
  counts, without the person, in anonymous L&D averages of at least MIN_GROUP_SIZE people, as the form says.
- ``partner``: the author's team partner(s) and the facilitator.
- ``facilitator``: the facilitator only.
L&D never reads an individual answer: insights use aggregates of numeric ratings only.
"""
from __future__ import annotations

from ..states import ReflectionStatus
ME, PARTNER, FACILITATOR = "me", "partner", "facilitator"
LEVELS = (ME, PARTNER, FACILITATOR)
# Defaults, stated on the form: what I learned/taught goes to my partner (the mutual learning view);
# what I will do differently stays mine; ratings go to the facilitator.
DEFAULTS = {"learned_from_partner": PARTNER, "taught_partner": PARTNER, "do_differently": ME,
            "gain_self": FACILITATOR, "gain_partner": FACILITATOR}

AUTHOR, AS_PARTNER, AS_FACILITATOR, AS_LND = "author", "partner", "facilitator", "lnd"


def default_for(prompt_id: str) -> str:
    return DEFAULTS.get(prompt_id, ME)


def level_of(reflection, prompt_id: str) -> str:
    level = (reflection.visibility or {}).get(prompt_id) or default_for(prompt_id)
    return level if level in LEVELS else ME


def may_see(viewer: str, level: str) -> bool:
    if viewer == AUTHOR:
        return True
    if viewer == AS_PARTNER:
        return level == PARTNER
    if viewer == AS_FACILITATOR:
        return level in (PARTNER, FACILITATOR)
    return False  # L&D and anyone else: no individual answer


def visible_answers(reflection, viewer: str) -> dict:
    """The answers of ``reflection`` that ``viewer`` may read (drafts only to their author)."""
    if viewer != AUTHOR and reflection.status != ReflectionStatus.SUBMITTED:
        return {}
    return {pid: value for pid, value in (reflection.answers or {}).items()
            if may_see(viewer, level_of(reflection, pid))}
