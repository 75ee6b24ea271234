import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar
import requests

from lti_tool.scheduling.ics import build_calendar, to_ics_bytes
from tests.scheduling.test_ics import spec

BER = ZoneInfo("Europe/Berlin")
AUTH = ("lab", "x")  # auth type none accepts any user; the login creates /lab/
RRULE = {"freq": "weekly", "interval": 2, "count": 6}


def series():
    # starts before the October change, ends after it
    return spec(uid="series-1@lab.example", start=datetime(2026, 9, 21, 17, tzinfo=BER),
                end=datetime(2026, 9, 21, 18, tzinfo=BER), rrule=RRULE)


def test_series_expands_local_times_across_dst():
    import recurring_ical_events as rie
    cal = icalendar.Calendar.from_ical(to_ics_bytes([series()]))
    occ = rie.of(cal).between(datetime(2026, 9, 1), datetime(2027, 1, 1))
    starts = sorted(e.decoded("DTSTART") for e in occ)
    assert len(starts) == 6
    assert all(s.astimezone(BER).hour == 17 for s in starts)
    assert {s.astimezone(timezone.utc).hour for s in starts} == {15, 16}


def test_recurrence_id_override():
    master = series()
    moved = spec(uid=master.uid, sequence=1, recurrence_id=datetime(2026, 10, 19, 17, tzinfo=BER),
                 start=datetime(2026, 10, 20, 9, tzinfo=BER), end=datetime(2026, 10, 20, 10, tzinfo=BER))
    data = to_ics_bytes([master, moved])
    cal = icalendar.Calendar.from_ical(data)
    evs = cal.walk("VEVENT")
    assert "RRULE" not in evs[1] and evs[1].decoded("RECURRENCE-ID") == datetime(2026, 10, 19, 17, tzinfo=BER)
    import recurring_ical_events as rie
    starts = sorted(e.decoded("DTSTART") for e in rie.of(cal).between(datetime(2026, 9, 1), datetime(2027, 1, 1)))
    assert datetime(2026, 10, 20, 9, tzinfo=BER) in starts and datetime(2026, 10, 19, 17, tzinfo=BER) not in starts
    import vobject
    assert len(vobject.readOne(data.decode()).vevent_list) == 2


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_radicale_roundtrip(tmp_path):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
                             "--storage-filesystem-folder", str(tmp_path / "store"), "--auth-type", "none"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/lab/"
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert requests.request("MKCALENDAR", base + "followups/", timeout=5, auth=AUTH).status_code in (201, 200)
        cal = build_calendar([series()], method="PUBLISH")
        del cal["METHOD"]  # CalDAV resources carry no METHOD (RFC 4791)
        r = requests.put(base + "followups/series-1.ics", data=cal.to_ical(),
                         headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=5, auth=AUTH)
        assert r.status_code in (201, 204), r.text
        got = icalendar.Calendar.from_ical(requests.get(base + "followups/series-1.ics", timeout=5, auth=AUTH).content)
        (ev,) = got.walk("VEVENT")
        assert ev.decoded("DTSTART") == datetime(2026, 9, 21, 17, tzinfo=BER)
        assert ev.decoded("DTEND") == datetime(2026, 9, 21, 18, tzinfo=BER)
        assert str(ev["UID"]) == "series-1@lab.example"
        assert ev["RRULE"]["COUNT"] == [6] and ev["RRULE"]["INTERVAL"] == [2]
    finally:
        proc.terminate()
        proc.wait(10)
