"""Load, merge organisation overrides into, and check a curriculum file.

Structure is checked by jsonschema (``schema.json``); the rules a schema cannot express (order,
overlaps, gaps, day length, prompts, duplicates) are checked here, and the facilitation kit's rules
(timing with transitions, breaks, sizes from 12 to 80 people, content, materials, safety, evaluation)
in ``rules.py``. Every problem names the file, the session id and the field.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from . import rules, translate
from .model import (Activity, AgendaItem, Curriculum, Evaluation, EvaluationLevel, FollowUp, HalfDayReflection,
                    Instrument, Material, Meeting, Prompt, Round, Session)

PACKAGE = Path(__file__).resolve().parent
DEFAULT_PATH = PACKAGE / "data" / "reciprocal_lab.yaml"
DEFAULT_OVERRIDES = PACKAGE.parent / "config" / "curriculum" / "overrides.yaml"
SCHEMA = json.loads((PACKAGE / "schema.json").read_text())


class CurriculumError(ValueError):
    """The curriculum is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CurriculumError([f"{path}: cannot read the file ({e.strerror})"]) from e
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(e, "problem", None) or str(e)
        raise CurriculumError([f"{path}: bad YAML at {where}: {problem}"]) from e


def merge_overrides(data: dict, overrides: dict, source: str) -> dict:
    """Apply an organisation's overrides: change or remove sessions, add sessions, translate titles.

    Overrides file keys: ``sessions`` ({id: {field: value}}), ``remove`` ([id]), ``add`` ([session]),
    ``translations`` ({locale: {id: title}}), ``follow_up`` ({field: value}).
    """
    if not isinstance(overrides, dict):
        raise CurriculumError([f"{source}: the overrides file must be a mapping"])
    merged = copy.deepcopy(data)
    known = {s.get("id") for s in merged.get("sessions", [])}
    problems = []
    for session_id, changes in (overrides.get("sessions") or {}).items():
        if session_id not in known:
            problems.append(f"{source}: session {session_id}: field sessions: no such session to override")
            continue
        if not isinstance(changes, dict):
            problems.append(f"{source}: session {session_id}: field sessions: changes must be a mapping")
            continue
        for session in merged["sessions"]:
            if session["id"] == session_id:
                session.update(copy.deepcopy(changes))
    for session_id in overrides.get("remove") or []:
        if session_id not in known:
            problems.append(f"{source}: session {session_id}: field remove: no such session to remove")
        merged["sessions"] = [s for s in merged["sessions"] if s.get("id") != session_id]
    merged["sessions"].extend(copy.deepcopy(overrides.get("add") or []))
    if overrides.get("follow_up"):
        merged["follow_up"].update(overrides["follow_up"])
    if overrides.get("translations"):
        merged.setdefault("translations", {}).update(overrides["translations"])
    if problems:
        raise CurriculumError(problems)
    return merged


def _session_name(data: dict, index: int) -> str:
    try:
        return str(data["sessions"][index].get("id") or f"#{index + 1}")
    except (KeyError, IndexError, TypeError, AttributeError):
        return f"#{index + 1}"


def check(data: Any, source: str) -> list[str]:
    """Every problem in a curriculum mapping (empty list when it is valid)."""
    if not isinstance(data, dict):
        return [f"{source}: the file must contain a mapping (id, title, sessions, ...)"]
    problems = []
    for error in sorted(Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path)):
        path = list(error.path)
        if len(path) >= 2 and path[0] == "sessions" and isinstance(path[1], int):
            field = ".".join(str(p) for p in path[2:]) or "session"
            problems.append(f"{source}: session {_session_name(data, path[1])}: field {field}: {error.message}")
        else:
            problems.append(f"{source}: field {'.'.join(str(p) for p in path) or '(top level)'}: {error.message}")
    if problems:
        return problems
    seen = set()
    for s in data["sessions"]:
        if s["id"] in seen:
            problems.append(f"{source}: session {s['id']}: field id: duplicate id")
        seen.add(s["id"])
        if s["kind"] != "break" and not s.get("prompts"):
            problems.append(f"{source}: session {s['id']}: field prompts: a {s['kind']} session needs reflection prompts")
        if s["kind"] == "break" and s.get("activities"):
            problems.append(f"{source}: session {s['id']}: field activities: a break has no activities")
        prompt_ids = [p["id"] for p in s.get("prompts", [])]
        if len(prompt_ids) != len(set(prompt_ids)):
            problems.append(f"{source}: session {s['id']}: field prompts: duplicate prompt ids")
    for day in sorted({s["day"] for s in data["sessions"]}):
        sessions = sorted((s for s in data["sessions"] if s["day"] == day), key=lambda s: s["start"])
        previous = None
        for s in sessions:
            if previous is not None:
                end = previous["start"] + previous["duration"]
                if s["start"] < end:
                    problems.append(f"{source}: session {s['id']}: field start: overlaps {previous['id']} "
                                    f"(starts at minute {s['start']}, {previous['id']} ends at {end})")
                elif s["start"] > end:
                    problems.append(f"{source}: session {s['id']}: field start: a gap of {s['start'] - end} minutes "
                                    f"after {previous['id']} with no break scheduled")
            previous = s
        last = sessions[-1]
        length = last["start"] + last["duration"]
        if length > data["max_day_minutes"]:
            problems.append(f"{source}: session {last['id']}: field duration: day {day} lasts {length} minutes, "
                            f"longer than the limit of {data['max_day_minutes']}")
    return problems + rules.check_kit(data, source)


def _prompts(items) -> tuple[Prompt, ...]:
    return tuple(Prompt(p["id"], p["text"], p["kind"], *((1, 5) if p["kind"] == "rating" else (None, None)))
                 for p in items or [])


def _activity(a: dict) -> Activity:
    r = a.get("round")
    return Activity(a["title"], a["minutes"], tuple(a["steps"]), format=a.get("format", ""),
                    purpose=a.get("purpose", ""), say=a.get("say", ""), card=tuple(a.get("card", [])),
                    transition=a.get("transition", ""), material_ids=tuple(a.get("materials", [])),
                    turns_minutes=(a.get("turns") or {}).get("minutes_each"),
                    round=Round(r["unit"], r["minutes_each"], r.get("sample")) if r else None,
                    harvest=bool(a.get("harvest")), reflection=bool(a.get("reflection")))


def _session(s: dict, day_start: time, titles: dict[str, str]) -> Session:
    ids = tuple(dict.fromkeys([*s.get("materials", []),
                               *(m for a in s.get("activities", []) for m in a.get("materials", []))]))
    return Session(
        id=s["id"], day=s["day"], start_offset_minutes=s["start"], duration_minutes=s["duration"],
        kind=s["kind"], title=s["title"], day_start=day_start,
        objectives=tuple(s.get("objectives", [])),
        activities=tuple(_activity(a) for a in s.get("activities", [])),
        materials=tuple(titles.get(m, m) for m in ids), facilitator_notes=tuple(s.get("facilitator_notes", [])),
        prompts=_prompts(s.get("prompts")), purpose=s.get("purpose", ""),
        key_messages=tuple(s.get("key_messages", [])), debrief=tuple(s.get("debrief", [])),
        virtual=tuple(s.get("virtual", [])), disclosure=bool(s.get("disclosure")), safety=s.get("safety", ""),
        material_ids=ids,
    )


def build(data: dict, source: str) -> Curriculum:
    h, m = (int(x) for x in data["day_start"].split(":"))
    day_start = time(h, m)
    materials = tuple(Material(m["id"], m["title"], m["kind"], m["per"], m.get("document"), m.get("count", 1),
                               m.get("extra", 0), m.get("format", ""), bool(m.get("included")), m.get("sheets", 1),
                               m.get("per_sheet", 1))
                      for m in data.get("materials") or [])
    titles = {m.id: m.title for m in materials}
    sessions = tuple(_session(s, day_start, titles) for s in sorted(data["sessions"], key=lambda s: (s["day"], s["start"])))
    f = data["follow_up"]
    follow_up = FollowUp(f["interval_weeks"], f["count"], f["duration_minutes"], tuple(f["agenda"]),
                         _prompts(f["prompts"]),
                         meetings=tuple(Meeting(m["number"], m["week"], m["title"],
                                                tuple(AgendaItem(i["minutes"], i["item"]) for i in m["agenda"]))
                                        for m in f.get("meetings") or []),
                         check_ins=tuple(f.get("check_ins") or []), stalled=tuple(f.get("stalled") or []),
                         sponsorship=f.get("sponsorship", ""))
    e = data.get("evaluation") or {"levels": [], "instruments": []}
    evaluation = Evaluation(
        levels=tuple(EvaluationLevel(x["level"], x["name"], x["question"], tuple(x["instruments"]), x["when"],
                                     x["target"]) for x in sorted(e["levels"], key=lambda x: x["level"])),
        instruments=tuple(Instrument(i["id"], i["title"], i["when"], i.get("intro", ""), _prompts(i["items"]))
                          for i in e["instruments"]))
    reflections = tuple(HalfDayReflection(r["id"], r["day"], r["half"], r["after"], r["title"], _prompts(r["prompts"]))
                        for r in sorted(data.get("reflections") or [],
                                        key=lambda r: (r["day"], r["half"] != "morning")))
    texts = {key: copy.deepcopy(data.get(key)) for key in ("case", "glossary", "agreements", "safety", "pre_work", "briefings")}
    return Curriculum(id=data["id"], title=data["title"], days=max(s.day for s in sessions), day_start=day_start,
                      max_day_minutes=data["max_day_minutes"], sessions=sessions, follow_up=follow_up,
                      source=source, translations=data.get("translations", {}), room=rules.room(data),
                      materials=materials, half_day_reflections=reflections, evaluation=evaluation, texts=texts)


def translated(data: Any, path: Path, language: str) -> Any:
    """The curriculum mapping with its participant-facing text in ``language`` (``translate``): the
    overlay next to the curriculum file, checked against the English ids (CurriculumError when wrong)."""
    overlay_path = translate.overlay_path(path, language)
    try:
        translate.fields(data)
    except (KeyError, TypeError, AttributeError):
        return data  # not a valid curriculum: ``check`` names the problem
    overlay = read_yaml(overlay_path)
    problems = translate.problems(data, overlay, str(overlay_path))
    if problems:
        raise CurriculumError(problems)
    return translate.apply(data, overlay)


def load_curriculum(path: str | Path | None = None, overrides: str | Path | dict | None = None,
                    locale: Any = None) -> Curriculum:
    """Load a curriculum (the shipped one by default), apply overrides, validate, build.

    Without ``overrides``, ``config/curriculum/overrides.yaml`` is applied when it exists.
    ``locale`` ("de", "fr_CH", a babel Locale, ...) picks the language of the participant-facing text
    (see ``translate``); English when there is no overlay for it. Ids, times and structure are the
    same in every language. Raises CurriculumError listing every problem.
    """
    path = Path(path) if path else DEFAULT_PATH
    data = read_yaml(path)
    source = str(path)
    language = translate.language_of(locale, translate.languages(path)) if locale else translate.DEFAULT_LANGUAGE
    if language != translate.DEFAULT_LANGUAGE:
        data = translated(data, path, language)
    if overrides is None and DEFAULT_OVERRIDES.exists():
        overrides = DEFAULT_OVERRIDES
    if overrides is not None:
        extra = read_yaml(Path(overrides)) if not isinstance(overrides, dict) else overrides
        if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
            raise CurriculumError(check(data, source) or [f"{source}: no sessions to override"])
        label = str(overrides) if not isinstance(overrides, dict) else "overrides"
        data = merge_overrides(data, extra or {}, label)
        source = f"{source} + {label}"
    problems = check(data, source)
    if problems:
        raise CurriculumError(problems)
    for session_id, title in ((data.get("translations") or {}).get(language) or {}).items():
        for s in data["sessions"]:  # the organisation's own titles in this language win
            if s["id"] == session_id:
                s["title"] = title
    return dataclasses.replace(build(data, source), language=language)
