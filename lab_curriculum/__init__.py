"""Reciprocal Mentoring Lab curriculum: data, validation, overrides, scheduling and kit.

Pure Python (no web framework). See docs/curriculum.md.
"""
from .core import (Activity, Block, Curriculum, CurriculumError, FollowUp, Problem, Prompt,
                   ScheduledSession, Session, apply_overrides, half_day_blocks, load_curriculum,
                   schedule, validate_data, DEFAULT_PATH)


def render_kit(out_dir, curriculum=None, cohort=None, formats=("html", "pdf")):
    """Write the facilitation kit; see lab_curriculum.kit.render_kit."""
    from .kit import render_kit as _render
    return _render(out_dir, curriculum=curriculum, cohort=cohort, formats=formats)


__all__ = ["Activity", "Block", "Curriculum", "CurriculumError", "FollowUp", "Problem", "Prompt",
           "ScheduledSession", "Session", "apply_overrides", "half_day_blocks", "load_curriculum",
           "render_kit", "schedule", "validate_data", "DEFAULT_PATH"]
