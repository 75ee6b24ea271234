"""Weekly availability slots ("tue-10": Tuesday 10:00-11:00 in the cohort's time zone) and their labels."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

WEEKDAYS = [("mon", _l("Monday")), ("tue", _l("Tuesday")), ("wed", _l("Wednesday")),
            ("thu", _l("Thursday")), ("fri", _l("Friday"))]
HOURS = list(range(8, 18))  # slots start 08:00 … 17:00 and end by 18:00
SLOTS = [f"{day}-{hour:02d}" for day, _ in WEEKDAYS for hour in HOURS]
DAY_NAMES = [name for _, name in WEEKDAYS] + [_l("Saturday"), _l("Sunday")]  # by weekday number 0-6
WEEKDAY_NUMBER = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def slot_parts(slot: str) -> tuple[int, int] | None:
    """(weekday 0-6, hour) of a slot name, or None for a name that is not a slot."""
    day, _, hour = slot.partition("-")
    return (WEEKDAY_NUMBER[day], int(hour)) if day in WEEKDAY_NUMBER and hour.isdigit() else None


def slot_label(slot: str) -> LazyString:
    """"Tuesday 10:00" in the reader's language (evaluated when shown, not when imported)."""
    day, _, hour = slot.partition("-")
    return LazyString(lambda: f"{dict(WEEKDAYS).get(day, day)} {int(hour) if hour.isdigit() else hour}:00")


SLOT_CHOICES = [(slot, slot_label(slot)) for slot in SLOTS]


def _zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


def slot_label_in(slot: str, slot_zone: str, reader_zone: str | None, week_of: date) -> str:
    """A slot of ``slot_zone`` (the cohort's) as the reader's clock shows it in the week of ``week_of``
    ("tue-14" in UTC reads "Tuesday 23:00" in Tokyo, "tue-16" reads "Wednesday 1:00")."""
    parts = slot_parts(slot)
    if parts is None:
        return slot
    day, hour = parts
    monday = week_of - timedelta(days=week_of.weekday())
    when = datetime.combine(monday + timedelta(days=day), datetime.min.time(), _zone(slot_zone)).replace(hour=hour)
    local = when.astimezone(_zone(reader_zone, slot_zone))
    return f"{DAY_NAMES[local.weekday()]} {local.hour}:{local.minute:02d}"


def shared(people) -> list[str]:
    """Slots every one of ``people`` marked free, in week order."""
    common = set.intersection(*(set(p.availability or []) for p in people)) if people else set()
    return [s for s in SLOTS if s in common]
