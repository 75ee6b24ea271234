"""Weekly availability slots ("tue-10": Tuesday 10:00-11:00 in the cohort's time zone) and their labels."""
from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

WEEKDAYS = [("mon", _l("Monday")), ("tue", _l("Tuesday")), ("wed", _l("Wednesday")),
            ("thu", _l("Thursday")), ("fri", _l("Friday"))]
HOURS = list(range(8, 18))  # slots start 08:00 … 17:00 and end by 18:00
SLOTS = [f"{day}-{hour:02d}" for day, _ in WEEKDAYS for hour in HOURS]
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
