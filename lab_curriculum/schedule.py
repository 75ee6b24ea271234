"""Lay the curriculum onto real dates in a time zone (local hours stay right across DST)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .model import Block, Curriculum, ScheduledSession


def schedule(curriculum: Curriculum, day_dates: list[date], tz: str) -> list[ScheduledSession]:
    """Each session with time-zone-aware start and end on the cohort's dates.

    Times are built as local wall-clock times in ``tz`` (zoneinfo), so a lab on both sides of a
    daylight-saving change still starts at the same local hour each day.
    """
    if len(day_dates) < curriculum.days:
        raise ValueError(f"the curriculum has {curriculum.days} days but {len(day_dates)} dates were given")
    zone = ZoneInfo(tz)
    out = []
    for session in curriculum.sessions:
        day = day_dates[session.day - 1]
        local = datetime.combine(day, curriculum.day_start, tzinfo=zone)
        start = (local.replace(tzinfo=None) + timedelta(minutes=session.start_offset_minutes)).replace(tzinfo=zone)
        end = (start.replace(tzinfo=None) + timedelta(minutes=session.duration_minutes)).replace(tzinfo=zone)
        out.append(ScheduledSession(session, start, end))
    return out


def half_day_blocks(scheduled: list[ScheduledSession]) -> list[Block]:
    """Group non-break sessions into morning and afternoon blocks per day (split at the lunch break)."""
    blocks: list[Block] = []
    by_day: dict[int, list[ScheduledSession]] = {}
    for item in scheduled:
        by_day.setdefault(item.session.day, []).append(item)
    for day, items in sorted(by_day.items()):
        lunch = next((i for i in items if i.session.is_break and i.session.duration_minutes >= 45), None)
        halves = {"morning": [], "afternoon": []}
        for item in items:
            if item.session.is_break:
                continue
            half = "morning" if lunch is None or item.start < lunch.start else "afternoon"
            halves[half].append(item)
        for label, members in halves.items():
            if members:
                blocks.append(Block(day, label, members[0].start, members[-1].end, tuple(members)))
    return blocks
