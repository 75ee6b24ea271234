"""Framework-free scheduling core: iCalendar objects (ics) and iMIP mail (imip)."""
from .ics import Attendee, EventSpec, Person, build_calendar, cancel_event, stable_uid, to_ics_bytes  # noqa: F401
