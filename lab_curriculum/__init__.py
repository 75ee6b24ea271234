"""The two-day Reciprocal Mentoring Lab as data, its checks, and the facilitation kit.

Pure Python: importable without the web app (no Flask, no database). The app reads sessions,
times and reflection prompts from here::

    from lab_curriculum import load_curriculum, schedule, half_day_blocks
    lab = load_curriculum()                       # shipped lab + config/curriculum/overrides.yaml
    slots = schedule(lab, [date(2027, 3, 30), date(2027, 3, 31)], "Europe/Berlin")
"""
from .kit import read_cohort, render_html, render_kit
from .loader import CurriculumError, check, load_curriculum
from .model import Activity, Block, Curriculum, FollowUp, Prompt, ScheduledSession, Session
from .schedule import half_day_blocks, schedule

__all__ = ["load_curriculum", "check", "CurriculumError", "schedule", "half_day_blocks", "render_kit",
           "render_html", "read_cohort", "Curriculum", "Session", "Prompt", "Activity", "FollowUp",
           "ScheduledSession", "Block"]
