"""The two-day Reciprocal Mentoring Lab as data, its checks, and the facilitation kit.

Pure Python: importable without the web app (no Flask, no database). The app reads sessions,
times and reflection prompts from here::

    from lab_curriculum import load_curriculum, schedule, half_day_blocks
    lab = load_curriculum()                       # shipped lab + config/curriculum/overrides.yaml
    slots = schedule(lab, [date(2027, 3, 30), date(2027, 3, 31)], "Europe/Berlin")
    lab.half_day_reflections                      # one short reflection per half day
    lab.evaluation.levels                         # the four-level evaluation plan and its instruments
"""
from .kit import read_cohort, render_html, render_kit, render_pdf, stylesheet
from .loader import CurriculumError, check, load_curriculum
from .model import (Activity, Block, Curriculum, Evaluation, EvaluationLevel, FollowUp, HalfDayReflection,
                    Instrument, Material, Meeting, Prompt, Round, ScheduledSession, Session)
from .schedule import half_day_blocks, schedule

__all__ = ["load_curriculum", "check", "CurriculumError", "schedule", "half_day_blocks", "render_kit",
           "render_html", "render_pdf", "stylesheet", "read_cohort", "Curriculum", "Session", "Prompt", "Activity",
           "FollowUp", "Meeting", "Material", "Round", "HalfDayReflection", "Evaluation", "EvaluationLevel",
           "Instrument", "ScheduledSession", "Block"]
