"""Build RFC 5545 / RFC 5546 calendar objects with icalendar (no framework imports)."""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vText

PRODID = "-//Reciprocal Mentoring Lab//Scheduling//EN"
_NS = uuid.UUID("6f1c2f0e-5d7e-4b7a-9a43-2b1f6c1e9d21")


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    role: str = "REQ-PARTICIPANT"
    partstat: str = "NEEDS-ACTION"
    rsvp: bool = True


@dataclass(frozen=True)
class EventSpec:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    organizer: Person
    attendees: tuple[Attendee, ...] = ()
    description: str = ""
    location: str = ""
    url: str = ""
    status: str = "CONFIRMED"
    rrule: dict | None = None
    recurrence_id: datetime | None = None
    exdates: tuple[datetime, ...] = ()
    alarm_minutes: int | None = 15
    categories: tuple[str, ...] = ()
    created: datetime | None = None
    last_modified: datetime | None = None

    def __post_init__(self):
        for name in ("start", "end"):
            v = getattr(self, name)
            if v.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("end must be after start")


def stable_uid(*parts, domain: str = "mentoring-lab.invalid") -> str:
    """Deterministic UID from ids: same parts -> same UID for the life of the event."""
    return f"{uuid.uuid5(_NS, '/'.join(str(p) for p in parts))}@{domain}"


def cancel_event(spec: EventSpec) -> EventSpec:
    """The cancellation of an event: same UID, STATUS:CANCELLED, SEQUENCE bumped."""
    return dataclasses.replace(spec, status="CANCELLED", sequence=spec.sequence + 1)


def _tzid(dt: datetime) -> str | None:
    tz = dt.tzinfo
    if isinstance(tz, ZoneInfo):
        return None if tz.key in ("UTC", "Etc/UTC") else tz.key
    return None


def _norm(dt: datetime) -> datetime:
    """ZoneInfo datetimes keep their zone; anything else becomes UTC."""
    if _tzid(dt):
        return dt
    return dt.astimezone(timezone.utc)


def _transitions(zone: ZoneInfo, year: int):
    """(utc instant, offset before, offset after, is_dst_after, name) for the year's transitions."""
    out = []
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    step = timedelta(hours=1)
    t = start
    prev = t.astimezone(zone).utcoffset()
    # coarse day scan, then hourly refinement
    day = timedelta(days=1)
    while t.year == year:
        n = t + day
        off = n.astimezone(zone).utcoffset()
        if off != prev:
            u = t
            while (u + step).astimezone(zone).utcoffset() == prev:
                u += step
            u += step
            # minute refinement is unnecessary for whole-hour zones; refine anyway
            m = u - step
            while m.astimezone(zone).utcoffset() == prev:
                m += timedelta(minutes=1)
            local = m.astimezone(zone)
            out.append((m, prev, off, bool(local.dst()), local.tzname()))
            prev = off
        t = n
    return out


def _rrule_for(local_wall: datetime) -> dict:
    """Yearly rule for a transition at this local wall time: nth (or last) weekday of the month."""
    wd = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][local_wall.weekday()]
    nxt = local_wall + timedelta(days=7)
    if nxt.month != local_wall.month:
        byday = f"-1{wd}"
    else:
        byday = f"{(local_wall.day - 1) // 7 + 1}{wd}"
    return {"FREQ": "YEARLY", "BYMONTH": local_wall.month, "BYDAY": byday}


def vtimezone(tzid: str, year: int) -> Timezone:
    """VTIMEZONE in the yearly-rule form (STANDARD + DAYLIGHT with RRULE) derived from zoneinfo."""
    zone = ZoneInfo(tzid)
    tz = Timezone()
    tz.add("TZID", tzid)
    trans = _transitions(zone, year)
    if not trans:
        ref = datetime(year, 1, 1, tzinfo=zone)
        sub = TimezoneStandard()
        sub.add("DTSTART", datetime(1970, 1, 1))
        sub.add("TZOFFSETFROM", ref.utcoffset())
        sub.add("TZOFFSETTO", ref.utcoffset())
        sub.add("TZNAME", ref.tzname())
        tz.add_component(sub)
        return tz
    for instant, before, after, is_dst, name in trans:
        wall = (instant + before).replace(tzinfo=None)  # local wall time in the old offset
        sub = TimezoneDaylight() if is_dst else TimezoneStandard()
        # start the rule in 1970 (same rule), so times before this year's first onset are defined
        sub.add("DTSTART", _onset_1970(wall, _rrule_for(wall)))
        sub.add("TZOFFSETFROM", before)
        sub.add("TZOFFSETTO", after)
        sub.add("TZNAME", name)
        sub.add("RRULE", _rrule_for(wall))
        tz.add_component(sub)
    return tz


def _onset_1970(wall: datetime, rule: dict) -> datetime:
    """The date in 1970 that the yearly rule selects, at the same wall-clock time."""
    byday = rule["BYDAY"]
    n, wd = int(byday[:-2]), ["MO", "TU", "WE", "TH", "FR", "SA", "SU"].index(byday[-2:])
    month = rule["BYMONTH"]
    days = [d for d in range(1, 32) if _valid(1970, month, d) and datetime(1970, month, d).weekday() == wd]
    return wall.replace(year=1970, month=month, day=days[n if n < 0 else n - 1])


def _valid(y, m, d):
    try:
        datetime(y, m, d)
        return True
    except ValueError:
        return False


def _event(spec: EventSpec, method: str, dtstamp: datetime) -> Event:
    ev = Event()
    ev.add("UID", spec.uid)
    ev.add("SEQUENCE", spec.sequence)
    ev.add("DTSTAMP", dtstamp)
    ev.add("DTSTART", _norm(spec.start))
    ev.add("DTEND", _norm(spec.end))
    if spec.recurrence_id is not None:
        ev.add("RECURRENCE-ID", _norm(spec.recurrence_id))
    if spec.rrule and spec.recurrence_id is None:
        ev.add("RRULE", {k.upper(): v for k, v in spec.rrule.items()})
    for ex in spec.exdates:
        ev.add("EXDATE", _norm(ex))
    ev.add("SUMMARY", spec.summary)
    if spec.description:
        ev.add("DESCRIPTION", spec.description)
    if spec.location:
        ev.add("LOCATION", spec.location)
    if spec.url:
        ev.add("URL", spec.url)
    status = "CANCELLED" if method == "CANCEL" else spec.status
    ev.add("STATUS", status)
    ev.add("TRANSP", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    org = vCalAddress(f"mailto:{spec.organizer.email}")
    org.params["CN"] = vText(spec.organizer.name)
    ev.add("ORGANIZER", org)
    for a in spec.attendees:
        att = vCalAddress(f"mailto:{a.email}")
        att.params["CN"] = vText(a.name)
        att.params["CUTYPE"] = "INDIVIDUAL"
        att.params["ROLE"] = a.role
        att.params["PARTSTAT"] = a.partstat
        att.params["RSVP"] = "TRUE" if a.rsvp else "FALSE"
        ev.add("ATTENDEE", att)
    if spec.categories:
        ev.add("CATEGORIES", list(spec.categories))
    if spec.created:
        ev.add("CREATED", spec.created.astimezone(timezone.utc))
    if spec.last_modified:
        ev.add("LAST-MODIFIED", spec.last_modified.astimezone(timezone.utc))
    if spec.alarm_minutes is not None and status != "CANCELLED":
        al = Alarm()
        al.add("ACTION", "DISPLAY")
        al.add("DESCRIPTION", spec.summary)
        al.add("TRIGGER", timedelta(minutes=-spec.alarm_minutes))
        ev.add_component(al)
    return ev


def build_calendar(events, method: str = "REQUEST", prodid: str = PRODID, *, dtstamp: datetime | None = None) -> Calendar:
    method = method.upper()
    if method not in ("REQUEST", "CANCEL", "PUBLISH"):
        raise ValueError(f"unsupported METHOD {method!r}")
    events = list(events)
    dtstamp = (dtstamp or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    cal = Calendar()
    cal.add("PRODID", prodid)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", method)
    zones: dict[str, int] = {}
    for spec in events:
        for dt in (spec.start, spec.end, spec.recurrence_id, *spec.exdates):
            if dt is not None and _tzid(dt):
                zones.setdefault(_tzid(dt), min(dt.year, spec.start.year))
    for tzid, year in sorted(zones.items()):
        cal.add_component(vtimezone(tzid, year))
    for spec in events:
        cal.add_component(_event(spec, method, dtstamp))
    return cal


def to_ics_bytes(events, method: str = "REQUEST", prodid: str = PRODID, **kw) -> bytes:
    return build_calendar(events, method, prodid, **kw).to_ical()
