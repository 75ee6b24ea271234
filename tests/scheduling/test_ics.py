from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from lti_tool.scheduling.ics import Attendee, EventSpec, Person, cancel_event, stable_uid, to_ics_bytes

BER = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")


def spec(**kw):
    base = dict(
        uid=stable_uid("cohort", 1, "block", 1, domain="lab.example"),
        sequence=0,
        start=datetime(2026, 3, 28, 9, 0, tzinfo=BER),
        end=datetime(2026, 3, 28, 12, 30, tzinfo=BER),
        summary="Lab day 1, morning; agenda, notes",
        description="Welcome\nPairs: Ana, Ben",
        location="Room 1, Building A",
        url="https://meet.example/lab",
        organizer=Person("Fac Ilitator", "fac@example.org"),
        attendees=(Attendee("Ana Ü", "ana@example.org"), Attendee("Ben", "ben@example.org")),
    )
    base.update(kw)
    return EventSpec(**base)


def test_stable_uid():
    assert stable_uid(1, 2, domain="x") == stable_uid(1, 2, domain="x") != stable_uid(1, 3, domain="x")


@pytest.mark.parametrize("tzid", ["Europe/Berlin", "America/New_York"])
def test_vtimezone_rule_form(tzid):
    z = ZoneInfo(tzid)
    cal = icalendar.Calendar.from_ical(to_ics_bytes([spec(start=datetime(2026, 6, 1, 9, tzinfo=z), end=datetime(2026, 6, 1, 10, tzinfo=z))]))
    (tz,) = cal.walk("VTIMEZONE")
    kinds = sorted(c.name for c in tz.subcomponents)
    assert kinds == ["DAYLIGHT", "STANDARD"]
    for c in tz.subcomponents:
        assert c.get("RRULE")["FREQ"] == ["YEARLY"]


def test_invite_update_cancel_same_uid():
    s0 = spec()
    s1 = spec(sequence=1, start=datetime(2026, 3, 28, 10, tzinfo=BER))
    c = cancel_event(s1)
    for s, m in ((s0, "REQUEST"), (s1, "REQUEST"), (c, "CANCEL")):
        cal = icalendar.Calendar.from_ical(to_ics_bytes([s], method=m))
        (ev,) = cal.walk("VEVENT")
        assert cal["METHOD"] == m and str(ev["UID"]) == s0.uid
        assert int(ev["SEQUENCE"]) == s.sequence
        v = vobject.readOne(to_ics_bytes([s], method=m).decode())
        assert v.method.value == m and v.vevent.uid.value == s0.uid and int(v.vevent.sequence.value) == s.sequence
        assert v.vevent.dtstart.value == s.start
        if m == "CANCEL":
            assert ev["STATUS"] == "CANCELLED" and not ev.walk("VALARM")
    assert c.sequence == 2 and c.status == "CANCELLED"


def test_dst_spanning_lab_and_other_tz():
    d1 = spec(start=datetime(2026, 3, 28, 9, tzinfo=BER), end=datetime(2026, 3, 28, 12, tzinfo=BER))
    d2 = spec(uid="d2@x", start=datetime(2026, 3, 30, 9, tzinfo=BER), end=datetime(2026, 3, 30, 12, tzinfo=BER))
    cal = icalendar.Calendar.from_ical(to_ics_bytes([d1, d2]))
    evs = cal.walk("VEVENT")
    assert [e.decoded("DTSTART").hour for e in evs] == [9, 9]
    utc = [e.decoded("DTSTART").astimezone(timezone.utc).hour for e in evs]
    assert utc == [8, 7]
    assert evs[0].decoded("DTSTART").astimezone(NY).hour == 4


def test_vobject_parses():
    import vobject
    data = to_ics_bytes([spec(rrule={"freq": "weekly", "interval": 2, "count": 6})]).decode()
    cal = vobject.readOne(data)
    ev = cal.vevent
    dates = list(ev.getrruleset())
    assert len(dates) == 6
    assert all(d.astimezone(BER).hour == 9 for d in dates)
