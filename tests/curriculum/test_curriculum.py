"""Curriculum data, validation, overrides, scheduling across DST, CLI."""
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

import lab_curriculum as lc
from lab_curriculum.core import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[2]


def base_data():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def write(tmp_path, data, name="cur.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def problems_for(tmp_path, data):
    p = write(tmp_path, data)
    with pytest.raises(lc.CurriculumError) as ei:
        lc.load_curriculum(p, overrides=False)
    return [str(x) for x in ei.value.problems], str(p)


def sess(data, sid):
    return next(s for s in data["sessions"] if s["id"] == sid)


def test_shipped_curriculum_validates_and_has_expected_shape():
    cur = lc.load_curriculum(overrides=False)
    assert cur.id == "reciprocal-lab" and cur.days == 2
    assert 12 <= len(cur.sessions) <= 16
    assert {s.kind for s in cur.sessions} == {"plenary", "pod", "team", "break"}
    assert [s.day for s in cur.sessions] == sorted(s.day for s in cur.sessions)
    for s in cur.sessions:
        if not s.is_break:
            ids = {p.id for p in s.prompts}
            assert {"learned_from_partner", "taught_partner", "do_differently", "gain_self", "gain_partner"} <= ids
            assert sum(a.minutes for a in s.activities) == s.duration_minutes
            assert s.objectives and s.facilitator_notes and s.activities
    rating = next(p for p in cur.sessions[0].prompts if p.id == "gain_partner")
    assert (rating.kind, rating.scale_min, rating.scale_max) == ("rating", 1, 5)
    assert cur.follow_up.interval_weeks == 2 and cur.follow_up.count == 6
    assert cur.session("d1-opening").start == time(9, 0)
    assert cur.session("d1-lunch").is_break
    assert cur.sessions[-1].id == "d2-carry-back"
    with pytest.raises(KeyError):
        cur.session("nope")


def test_dataclasses_are_frozen():
    cur = lc.load_curriculum(overrides=False)
    with pytest.raises(AttributeError):
        cur.sessions[0].title = "x"


def test_overlap(tmp_path):
    d = base_data()
    sess(d, "d1-expertise-map")["start_offset_minutes"] = 30
    probs, f = problems_for(tmp_path, d)
    assert any("session d1-expertise-map: field start_offset_minutes: overlaps session d1-opening" in p
               and p.startswith(f) for p in probs)


def test_gap_without_break(tmp_path):
    d = base_data()
    d["sessions"] = [s for s in d["sessions"] if s["id"] != "d1-break-am"]
    probs, _ = problems_for(tmp_path, d)
    assert any("session d1-listening: field start_offset_minutes: gap of 15 min with no break" in p for p in probs)


def test_day_too_long(tmp_path):
    d = base_data()
    d["day_limit_minutes"] = 400
    probs, _ = problems_for(tmp_path, d)
    assert any("session d1-curiosity: field duration_minutes: day 1 is too long" in p for p in probs)


def test_missing_prompts(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["prompts"] = []
    probs, _ = problems_for(tmp_path, d)
    assert any("session d2-goals: field prompts: missing reflection prompts" in p for p in probs)


def test_unknown_kind(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["kind"] = "workshop"
    probs, _ = problems_for(tmp_path, d)
    assert any("session d2-goals: field kind: unknown kind 'workshop'" in p for p in probs)


def test_durations_do_not_add_up(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["activities"][0]["minutes"] = 5
    probs, _ = problems_for(tmp_path, d)
    assert any("session d2-goals: field activities: durations do not add up: activities total 45 min" in p
               for p in probs)


def test_duplicate_ids(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["id"] = "d1-opening"
    probs, _ = problems_for(tmp_path, d)
    assert any("session d1-opening: field id: duplicate session id" in p for p in probs)


def test_bad_yaml_reports_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: x\ntitle: y\nsessions:\n  - id: a\n    title: [unclosed\n    kind: team\n", encoding="utf-8")
    with pytest.raises(lc.CurriculumError) as ei:
        lc.load_curriculum(p, overrides=False)
    msg = str(ei.value.problems[0])
    assert msg.startswith(str(p)) and "bad YAML at line" in msg


def test_schema_type_error_names_session_and_field(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["duration_minutes"] = "sixty"
    probs, _ = problems_for(tmp_path, d)
    assert any("session d2-goals: field duration_minutes:" in p for p in probs)


def test_all_problems_reported_at_once(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["prompts"] = []
    sess(d, "d1-opening")["kind"] = "lecture"
    probs, _ = problems_for(tmp_path, d)
    assert len(probs) >= 2


# ------------------------------------------------------------------ overrides

def test_example_overrides_merge_and_validate():
    ex = ROOT / "config" / "curriculum" / "overrides.example.yaml"
    cur = lc.load_curriculum(overrides=ex)
    assert cur.title != "Reciprocal Mentoring Lab"
    assert cur.session("d2-company").kind == "plenary"
    assert cur.session("d1-opening").title.startswith("Eröffnung")
    assert cur.session("d2-carry-back").duration_minutes == 45
    assert "confidence_now" in {p.id for p in cur.session("d1-listening").prompts}


def test_override_result_is_validated(tmp_path):
    o = tmp_path / "o.yaml"
    o.write_text("sessions:\n  d1-opening:\n    duration_minutes: 30\n", encoding="utf-8")
    with pytest.raises(lc.CurriculumError) as ei:
        lc.load_curriculum(overrides=o)
    text = "\n".join(map(str, ei.value.problems))
    assert str(o) in text and "session d1-opening: field activities: durations do not add up" in text


def test_override_unknown_session(tmp_path):
    with pytest.raises(lc.CurriculumError) as ei:
        lc.load_curriculum(overrides={"translations": {"zzz": "Hallo"}})
    assert "session zzz: field title: translation names an unknown session" in str(ei.value)


def test_overrides_file_picked_up_from_env(tmp_path, monkeypatch):
    o = tmp_path / "o.yaml"
    o.write_text("title: Lab for ACME\n", encoding="utf-8")
    monkeypatch.setenv("LAB_CURRICULUM_OVERRIDES", str(o))
    assert lc.load_curriculum().title == "Lab for ACME"


# ------------------------------------------------------------------ scheduling / DST

def test_schedule_berlin_across_dst_spring():
    cur = lc.load_curriculum(overrides=False)
    # Clocks go forward in Berlin on Sunday 28 March 2027.
    sch = lc.schedule(cur, [date(2027, 3, 26), date(2027, 3, 29)], "Europe/Berlin")
    first = sch[0]
    d2 = next(s for s in sch if s.day == 2)
    assert first.start == datetime(2027, 3, 26, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert first.start.utcoffset().total_seconds() == 3600
    assert d2.start.hour == 9 and d2.start.utcoffset().total_seconds() == 7200
    assert d2.start.astimezone(ZoneInfo("UTC")).hour == 7
    assert first.start.astimezone(ZoneInfo("UTC")).hour == 8
    assert all(s.end > s.start for s in sch)


def test_schedule_new_york_across_dst_autumn():
    cur = lc.load_curriculum(overrides=False)
    # New York falls back on Sunday 7 November 2027.
    sch = lc.schedule(cur, [date(2027, 11, 5), date(2027, 11, 8)], "America/New_York")
    d1 = sch[0]
    d2 = next(s for s in sch if s.day == 2)
    assert (d1.start.hour, d2.start.hour) == (9, 9)
    assert d1.start.astimezone(ZoneInfo("UTC")).hour == 13
    assert d2.start.astimezone(ZoneInfo("UTC")).hour == 14
    lunch = next(s for s in sch if s.id == "d2-lunch")
    assert (lunch.start.hour, lunch.start.minute, lunch.end.hour) == (12, 15, 13)


def test_schedule_same_session_two_zones():
    cur = lc.load_curriculum(overrides=False)
    days = [date(2027, 6, 1), date(2027, 6, 2)]
    b = lc.schedule(cur, days, "Europe/Berlin")[0].start
    n = lc.schedule(cur, days, "America/New_York")[0].start
    assert (n - b).total_seconds() == 6 * 3600


def test_schedule_bad_timezone():
    cur = lc.load_curriculum(overrides=False)
    with pytest.raises(lc.CurriculumError):
        lc.schedule(cur, [date(2027, 6, 1), date(2027, 6, 2)], "Mars/Olympus")


def test_half_day_blocks():
    cur = lc.load_curriculum(overrides=False)
    blocks = lc.half_day_blocks(lc.schedule(cur, [date(2027, 6, 1), date(2027, 6, 2)], "Europe/Berlin"))
    assert [(b.day, b.label) for b in blocks] == [(1, "morning"), (1, "afternoon"), (2, "morning"), (2, "afternoon")]
    assert blocks[0].start.hour == 9 and (blocks[0].end.hour, blocks[0].end.minute) == (12, 15)
    assert (blocks[1].start.hour, blocks[1].start.minute) == (13, 15)
    assert all(not s.session.is_break for b in blocks for s in b.sessions)


# ------------------------------------------------------------------ CLI and purity

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lab_curriculum", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_cli_check_ok():
    r = run_cli("check")
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_cli_check_invalid_exit_2_without_traceback(tmp_path):
    d = base_data()
    sess(d, "d2-goals")["kind"] = "workshop"
    p = write(tmp_path, d)
    r = run_cli("check", str(p))
    assert r.returncode == 2
    assert f"{p}: session d2-goals: field kind: unknown kind" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_check_bad_yaml_and_missing_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("a: [1,\nb: 2\n", encoding="utf-8")
    r = run_cli("check", str(p))
    assert r.returncode == 2 and "line" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("check", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "cannot read file" in r.stderr and "Traceback" not in r.stderr


def test_cli_check_with_overrides():
    r = run_cli("check", "--overrides", "config/curriculum/overrides.example.yaml")
    assert r.returncode == 0, r.stderr


def test_package_is_pure():
    code = ("import sys, lab_curriculum, lab_curriculum.kit;"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('flask','sqlalchemy','lti_tool','flask_sqlalchemy')];"
            "assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
