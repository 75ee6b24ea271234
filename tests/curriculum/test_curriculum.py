"""lab_curriculum/: the shipped lab validates, every error is named (structure, timing, sizing, content,
materials, safety, evaluation), overrides, DST-proof agenda. The rendered kit is tested in test_kit.py."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from lab_curriculum import CurriculumError, half_day_blocks, load_curriculum, schedule
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
    assert 12 <= len(lab.sessions) <= 18 and lab.days == 2
    working = [s for s in lab.sessions if not s.is_break]
    assert all(s.prompts and s.objectives and s.activities and s.facilitator_notes for s in working)
    for s in working:
        ids = {p.id for p in s.prompts}  # the per-session prompts the app reads today stay in place
        assert {"learned_from_partner", "taught_partner", "do_differently", "gain_self", "gain_partner"} <= ids
        assert s.purpose and s.key_messages and s.debrief and s.virtual and s.harvest is not None
        assert all(a.purpose and a.say and a.steps and a.transition and a.format for a in s.activities)
        assert s.harvest.round is not None
        if s.disclosure:
            assert s.safety and "safety-protocol" in s.material_ids
    assert {s.id for s in working if s.disclosure} >= {"d1-listening", "d1-learning-stance", "d1-working-together",
                                                        "d2-resilience"}
    assert lab.follow_up.interval_weeks == 2 and lab.follow_up.count == 6 and len(lab.follow_up.meetings) == 6
    assert all(sum(i.minutes for i in m.agenda) <= lab.follow_up.duration_minutes for m in lab.follow_up.meetings)
    assert lab.sessions[-1].id == "d2-carry-back" and lab.session("d2-action-plan").kind == "team"
    assert [b.id for b in lab.sessions if b.is_break and b.day == 2] == ["d2-break-morning", "d2-lunch",
                                                                          "d2-break-afternoon"]
    assert run_check().returncode == 0


def test_half_day_reflections_and_evaluation_plan():
    lab = load_curriculum(DEFAULT_PATH, overrides={})
    reflections = lab.half_day_reflections
    assert [(r.day, r.half) for r in reflections] == [(1, "morning"), (1, "afternoon"), (2, "morning"),
                                                        (2, "afternoon")]
    for r in reflections:
        assert 1 <= len(r.prompts) <= 4 and {"gain_self", "gain_partner"} <= {p.id for p in r.prompts}
        assert any(a.reflection for a in lab.session(r.after).activities)
        assert lab.reflection_after(r.after) == r
    assert [level.level for level in lab.evaluation.levels] == [1, 2, 3, 4]
    assert {i.id for i in lab.evaluation.instruments} == {"self-assessment", "end-of-lab", "three-month-check",
                                                          "organisational-measures"}
    assert all(item.kind == "rating" for item in lab.evaluation.instrument("self-assessment").items)


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["sessions"][1].update(start=30), "session d1-knowledge-map: field start: overlaps d1-welcome"),
    (lambda d: d["sessions"][1].update(start=60), "session d1-knowledge-map: field start: a gap of 10 minutes"),
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


def session(data: dict, session_id: str) -> dict:
    return next(s for s in data["sessions"] if s["id"] == session_id)


def activity(data: dict, session_id: str, title: str) -> dict:
    return next(a for a in session(data, session_id)["activities"] if a["title"] == title)


def drop_break(d):
    """Day two afternoon without its break: swap seats runs on into the action plan."""
    d["sessions"] = [s for s in d["sessions"] if s["id"] != "d2-break-afternoon"]
    session(d, "d2-swap-seats")["duration"] = 75


@pytest.mark.parametrize("change, expected", [
    # time: every activity keeps its transition, and long stretches get a break
    (lambda d: activity(d, "d1-welcome", "Opening").update(minutes=15),
     "session d1-welcome: field activities: activities take 43 minutes plus 8 minutes of transitions"),
    (drop_break, "session d2-action-plan: field start: 135 minutes of sessions without a break on day 2"),
    # size: rounds and turns must fit from 12 to 80 people
    (lambda d: activity(d, "d1-listening", "Harvest")["round"].pop("sample"),
     "session d1-listening: field activities.3: 'Harvest' does not fit 80 people: round: all 14 pods × 1.5 min"),
    (lambda d: activity(d, "d1-listening", "Three chairs")["turns"].update(minutes_each=10),
     "'Three chairs' does not fit 12 people: turns: 4 people × 10 min = 40 minutes but the activity lasts 32"),
    (lambda d: activity(d, "d2-carry-back", "Gallery walk").update(round={"unit": "team", "minutes_each": 1}),
     "'Gallery walk' does not fit 80 people: round: all 40 teams × 1 min = 40 minutes but the activity lasts 18"),
    (lambda d: d["room"].update(min_people=100), "field room: min_people is larger than max_people"),
    # content: what the facilitator needs in every session and activity
    (lambda d: session(d, "d1-knowledge-map").pop("purpose"), "session d1-knowledge-map: field purpose: a team"),
    (lambda d: session(d, "d2-goals").pop("debrief"), "session d2-goals: field debrief:"),
    (lambda d: session(d, "d2-goals").pop("virtual"), "session d2-goals: field virtual:"),
    (lambda d: activity(d, "d2-goals", "Goal wheel").pop("say"), "session d2-goals: field activities.1.say:"),
    (lambda d: activity(d, "d2-goals", "Goal wheel").pop("transition"), "field activities.1.transition:"),
    (lambda d: activity(d, "d2-goals", "Goal wheel").pop("card"),
     "field activities.1.card: activity 'Goal wheel' is done by participants and needs card text"),
    (lambda d: activity(d, "d1-close", "Closing round").pop("harvest"),
     "session d1-close: field activities: no activity is the session's harvest"),
    (lambda d: activity(d, "d1-welcome", "Hopes and worries").update(card=["word " * 150]),
     "session d1-welcome: field activities.2.card: 750 characters do not fit an A6 card"),
    # materials: everything named exists and is produced by the kit
    (lambda d: activity(d, "d1-knowledge-map", "Two maps")["materials"].append("magic-wand"),
     "session d1-knowledge-map: field materials: 'magic-wand' is not in the kit's materials list"),
    (lambda d: d["materials"].append({"id": "ghost-sheet", "title": "Ghost", "kind": "print", "document": "handouts",
                                      "per": "team"}),
     "field materials: ghost-sheet has no handout template (templates/handouts/ghost-sheet.html)"),
    # safety: sessions that invite disclosure reference the protocol
    (lambda d: session(d, "d1-learning-stance")["materials"].remove("safety-protocol"),
     "session d1-learning-stance: field materials: the session invites disclosure and must reference the "
     "safety-protocol"),
    (lambda d: session(d, "d2-resilience").pop("safety"), "session d2-resilience: field safety:"),
    # reflections: one per half day, with time for it
    (lambda d: d["reflections"].pop(1), "field reflections: day 1 afternoon has no half-day reflection"),
    (lambda d: d["reflections"][0].update(after="d1-knowledge-map"),
     "field reflections: d1-morning: session d1-knowledge-map has no activity with time for it"),
    # before and after the lab
    (lambda d: next(p for p in d["pre_work"] if p["id"] == "teams-published").update(days_before=35),
     "field pre_work: teams-published (35 days before) must come after matching (28 days before)"),
    (lambda d: d["follow_up"]["meetings"][0]["agenda"][0].update(minutes=30),
     "field follow_up.meetings: meeting 1 takes 80 minutes, longer than 60"),
    (lambda d: d["follow_up"].update(count=8), "field follow_up.meetings: 6 agendas for 8 meetings"),
    (lambda d: d["evaluation"]["levels"].pop(), "field evaluation.levels: needs levels 1 to 4 once each"),
])
def test_each_kit_rule_is_enforced(tmp_path, change, expected):
    data = shipped()
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(CurriculumError) as error:
        load_curriculum(path, overrides={})
    assert any(p.startswith(str(path)) and expected in p for p in error.value.problems), error.value.problems


def test_the_checker_command_reports_kit_rules(tmp_path):
    data = shipped()
    activity(data, "d1-listening", "Harvest")["round"].pop("sample")
    run = run_check(write(tmp_path, data))
    assert run.returncode == 2 and "does not fit 80 people" in run.stderr and "Traceback" not in run.stderr


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
    assert lab.follow_up.sponsorship.startswith("At Example Corp") and lab.follow_up.count == 6
    assert run_check("--overrides", example).returncode == 0
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
    assert blocks[0].start.strftime("%H:%M") == "09:00" and blocks[0].end.strftime("%H:%M") == "12:20"
    assert blocks[3].start.strftime("%H:%M") == "13:15" and blocks[3].end.strftime("%H:%M") == "16:30"


def test_pure_package_imports_no_web_stack():
    code = "import sys, lab_curriculum; print('flask' in sys.modules, 'sqlalchemy' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False False"
