"""lab_curriculum/: the shipped lab validates, every error is named, overrides, kit, DST-proof agenda."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from lab_curriculum import CurriculumError, half_day_blocks, load_curriculum, render_kit, schedule
from lab_curriculum.loader import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[2]


def shipped() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text())


def write(tmp_path, data, name="lab.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def run_check(*args):
    return subprocess.run([sys.executable, "-m", "lab_curriculum", "check", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_shipped_curriculum_is_valid_and_complete():
    lab = load_curriculum(DEFAULT_PATH, overrides={})
    assert 12 <= len(lab.sessions) <= 16 and lab.days == 2
    working = [s for s in lab.sessions if not s.is_break]
    assert all(s.prompts and s.objectives and s.activities and s.facilitator_notes for s in working)
    for s in working:
        ids = {p.id for p in s.prompts}
        assert {"learned_from_partner", "taught_partner", "do_differently", "gain_self", "gain_partner"} <= ids
    assert lab.follow_up.interval_weeks == 2 and lab.follow_up.count == 6
    assert lab.sessions[-1].id == "d2-carry-back" and lab.session("d2-action-plan").kind == "team"
    assert run_check().returncode == 0


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["sessions"][1].update(start=30), "session d1-knowledge-map: field start: overlaps d1-welcome"),
    (lambda d: d["sessions"][1].update(start=60), "session d1-knowledge-map: field start: a gap of 15 minutes"),
    (lambda d: d["sessions"][-1].update(duration=120), "session d2-carry-back: field duration: day 2 lasts"),
    (lambda d: d["sessions"][0].pop("prompts"), "session d1-welcome: field prompts: a plenary session needs"),
    (lambda d: d["sessions"][0].update(kind="workshop"), "session d1-welcome: field kind:"),
    (lambda d: d["sessions"][0]["activities"][0].update(minutes=40), "session d1-welcome: field activities: activities take"),
    (lambda d: d["sessions"][3].update(id="d1-welcome"), "session d1-welcome: field id: duplicate id"),
    (lambda d: d["sessions"][2].pop("title"), "session d1-break-morning: field session: 'title' is a required property"),
])
def test_each_kind_of_error_is_named(tmp_path, change, expected):
    data = shipped()
    change(data)
    path = write(tmp_path, data)
    run = run_check(path)
    assert run.returncode == 2
    assert str(path) in run.stderr and expected in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_bad_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, "id: x\nsessions:\n  - id: a\n    title: [unclosed\n")
    run = run_check(path)
    assert run.returncode == 2 and "bad YAML at line" in run.stderr and "Traceback" not in run.stderr
    assert run_check(tmp_path / "missing.yaml").returncode == 2


def test_organisation_overrides_merge_and_validate(tmp_path):
    example = ROOT / "config" / "curriculum" / "overrides.example.yaml"
    lab = load_curriculum(DEFAULT_PATH, overrides=example)
    assert lab.session("d1-working-together").title == "Working across gender at Example Corp"
    assert lab.session("d2-swap-seats").duration_minutes == 45
    assert lab.session("d2-company-values").prompts[0].id == "charter_use"
    assert lab.title_in(lab.session("d1-welcome"), "de").startswith("Zwei")
    assert lab.follow_up.count == 8
    broken = yaml.safe_load(example.read_text())
    broken["sessions"]["d2-swap-seats"]["duration"] = 90  # now overlaps the action plan
    path = write(tmp_path, broken, "overrides.yaml")
    with pytest.raises(CurriculumError, match="session d2-company-values: field start: overlaps d2-swap-seats"):
        load_curriculum(DEFAULT_PATH, overrides=path)
    unknown = write(tmp_path, {"sessions": {"nope": {"title": "x"}}}, "unknown.yaml")
    run = run_check("--overrides", unknown)
    assert run.returncode == 2 and "session nope: field sessions: no such session" in run.stderr


def test_agenda_keeps_local_hours_across_dst_and_time_zones():
    lab = load_curriculum(DEFAULT_PATH, overrides={})
    # Europe/Berlin switches to summer time on Sunday 28 March 2027: a Saturday/Monday lab.
    berlin = schedule(lab, [date(2027, 3, 27), date(2027, 3, 29)], "Europe/Berlin")
    firsts = [s for s in berlin if s.session.start_offset_minutes == 0]
    assert [s.start.strftime("%H:%M %Z") for s in firsts] == ["09:00 CET", "09:00 CEST"]
    assert [s.start.astimezone(timezone.utc).hour for s in firsts] == [8, 7]
    new_york = schedule(lab, [date(2027, 3, 13), date(2027, 3, 15)], "America/New_York")
    assert new_york[0].start.astimezone(timezone.utc) == datetime(2027, 3, 13, 14, 0, tzinfo=timezone.utc)
    assert new_york[-1].end.strftime("%H:%M %Z") == "16:30 EDT"
    blocks = half_day_blocks(berlin)
    assert [(b.day, b.label) for b in blocks] == [(1, "morning"), (1, "afternoon"), (2, "morning"), (2, "afternoon")]
    assert blocks[0].start.strftime("%H:%M") == "09:00" and blocks[0].end.strftime("%H:%M") == "12:15"


def test_kit_renders_html_and_non_blank_pdf_pages(tmp_path):
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdftoppm (Debian poppler-utils) is missing")
        pytest.skip("pdftoppm missing")
    cohort = tmp_path / "cohort.json"
    cohort.write_text('{"name": "Spring lab", "timezone": "Europe/Berlin", "dates": ["2027-03-27", "2027-03-29"],'
                      ' "venue": "Room Kepler", "teams": [{"name": "Team 1", "members": ["Ana", "Ben"], "pod": 1}]}')
    out = tmp_path / "kit"
    run = subprocess.run([sys.executable, "-m", "lab_curriculum", "kit", "--out", str(out), "--cohort", str(cohort)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    for name in ("guide", "agenda", "cards", "workbook", "checklist", "tents"):
        assert (out / f"{name}.html").exists() and (out / f"{name}.pdf").stat().st_size > 1000
    agenda = (out / "agenda.html").read_text()
    assert "09:00–09:45 CET" in agenda and "09:00–10:30 CEST" in agenda and "Saturday 27 March 2027" in agenda
    assert "Ana &amp; Ben · Pod 1" in (out / "tents.html").read_text()
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(out / "guide.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 5
    from PIL import Image

    for page in pages:
        pixels = Image.open(page).convert("L").getextrema()
        assert pixels[0] < 100, f"{page.name} is blank"


def test_render_kit_from_python(tmp_path):
    files = render_kit(tmp_path, formats=("html",))
    assert {f.name for f in files} >= {"guide.html", "index.html"}


def test_pure_package_imports_no_web_stack():
    code = "import sys, lab_curriculum; print('flask' in sys.modules, 'sqlalchemy' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False False"
