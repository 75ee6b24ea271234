"""Curriculum model, loading, validation, overrides and scheduling (pure Python).

No web-framework imports: the web app, the CLI and the kit renderer all build on this module.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
import yaml

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PATH = PACKAGE_DIR / "data" / "reciprocal_lab.yaml"
SCHEMA_PATH = PACKAGE_DIR / "schema.json"
DEFAULT_OVERRIDES = Path("config") / "curriculum" / "overrides.yaml"
KINDS = ("plenary", "pod", "team", "break")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a curriculum, located by file, session id and field."""

    file: str
    session_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.session_id:
            where.append(f"session {self.session_id}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{': '.join(where)}: {self.message}"


class CurriculumError(ValueError):
    """Raised when a curriculum (or its overrides) is invalid; ``.problems`` lists every problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    kind: str  # "text" | "rating"
    scale_min: int | None = None
    scale_max: int | None = None


@dataclass(frozen=True)
class Activity:
    title: str
    minutes: int
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Session:
    id: str
    day: int
    start_offset_minutes: int
    duration_minutes: int
    kind: str
    title: str
    day_start: time
    objectives: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    materials: tuple[str, ...] = ()
    facilitator_notes: tuple[str, ...] = ()
    prompts: tuple[Prompt, ...] = ()

    @property
    def start(self) -> time:
        """Local wall-clock start time (day start + offset)."""
        m = self.day_start.hour * 60 + self.day_start.minute + self.start_offset_minutes
        return time(m // 60, m % 60)

    @property
    def end_offset_minutes(self) -> int:
        return self.start_offset_minutes + self.duration_minutes

    @property
    def end(self) -> time:
        m = self.day_start.hour * 60 + self.day_start.minute + self.end_offset_minutes
        return time(m // 60, m % 60)

    @property
    def is_break(self) -> bool:
        return self.kind == "break"


@dataclass(frozen=True)
class FollowUp:
    interval_weeks: int
    count: int
    duration_minutes: int
    agenda: tuple[str, ...]
    prompts: tuple[Prompt, ...]


@dataclass(frozen=True)
class Curriculum:
    id: str
    title: str
    days: int
    day_start: time
    day_limit_minutes: int
    sessions: tuple[Session, ...]
    follow_up: FollowUp
    source: str = ""

    def session(self, session_id: str) -> Session:
        for s in self.sessions:
            if s.id == session_id:
                return s
        raise KeyError(session_id)

    def sessions_on(self, day: int) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.day == day)


@dataclass(frozen=True)
class ScheduledSession:
    session: Session
    day: int
    date: date
    start: datetime  # timezone-aware
    end: datetime  # timezone-aware

    @property
    def id(self) -> str:
        return self.session.id


@dataclass(frozen=True)
class Block:
    day: int
    label: str  # "morning" | "afternoon"
    start: datetime
    end: datetime
    sessions: tuple[ScheduledSession, ...]


# --------------------------------------------------------------------------- loading

def _read_yaml(path: Path, label: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CurriculumError([Problem(label, None, None, f"cannot read file: {exc.strerror or exc}")])
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise CurriculumError([Problem(label, None, None, f"bad YAML at {line}{exc.problem or exc}")])
    except yaml.YAMLError as exc:
        raise CurriculumError([Problem(label, None, None, f"bad YAML: {exc}")])


def _schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _schema_problems(data: Any, label: str) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(_schema())
    problems = []
    sessions = data.get("sessions") if isinstance(data, dict) else None
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(err.absolute_path)
        sid = None
        field = ".".join(str(p) for p in path) or None
        if len(path) >= 2 and path[0] == "sessions" and isinstance(path[1], int):
            s = sessions[path[1]] if isinstance(sessions, list) and path[1] < len(sessions) else None
            sid = str(s.get("id")) if isinstance(s, dict) and s.get("id") else f"#{path[1] + 1}"
            field = ".".join(str(p) for p in path[2:]) or None
        msg = err.message
        if err.validator == "enum" and path and path[-1] == "kind":
            msg = f"unknown kind {err.instance!r}; expected one of {', '.join(KINDS)}"
        elif err.validator == "required" and field is None:
            missing = msg.split("'")[1] if "'" in msg else None
            field = missing
        problems.append(Problem(label, sid, field, msg))
    return problems


def _semantic_problems(data: dict, label: str) -> list[Problem]:
    problems: list[Problem] = []
    sessions = [s for s in data.get("sessions", []) if isinstance(s, dict)]
    seen: set[str] = set()
    for s in sessions:
        sid = s.get("id")
        if sid in seen:
            problems.append(Problem(label, sid, "id", f"duplicate session id {sid!r}"))
        seen.add(sid)
        if s.get("kind") != "break" and s.get("kind") in KINDS:
            if not s.get("prompts"):
                problems.append(Problem(label, sid, "prompts", "missing reflection prompts on a non-break session"))
            acts = s.get("activities")
            if not acts:
                problems.append(Problem(label, sid, "activities", "a non-break session needs at least one activity"))
            elif all(isinstance(a, dict) and isinstance(a.get("minutes"), int) for a in acts):
                total = sum(a["minutes"] for a in acts)
                if total != s.get("duration_minutes"):
                    problems.append(Problem(label, sid, "activities",
                                            f"durations do not add up: activities total {total} min, "
                                            f"duration_minutes is {s.get('duration_minutes')}"))
        for i, p in enumerate(s.get("prompts") or []):
            if isinstance(p, dict) and p.get("kind") == "rating":
                lo, hi = p.get("scale_min"), p.get("scale_max")
                if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
                    problems.append(Problem(label, sid, f"prompts.{i}",
                                            f"rating prompt {p.get('id')!r} needs scale_min < scale_max"))
        if isinstance(s.get("day"), int) and isinstance(data.get("days"), int) and s["day"] > data["days"]:
            problems.append(Problem(label, sid, "day", f"day {s['day']} but the curriculum has {data['days']} day(s)"))
    limit = data.get("day_limit_minutes")
    timed = [s for s in sessions if isinstance(s.get("day"), int) and isinstance(s.get("start_offset_minutes"), int)
             and isinstance(s.get("duration_minutes"), int)]
    for day in sorted({s["day"] for s in timed}):
        todays = sorted((s for s in timed if s["day"] == day), key=lambda s: s["start_offset_minutes"])
        if todays and todays[0]["start_offset_minutes"] != 0:
            problems.append(Problem(label, todays[0].get("id"), "start_offset_minutes",
                                    f"day {day} starts {todays[0]['start_offset_minutes']} min after the day start"))
        for prev, cur in zip(todays, todays[1:]):
            prev_end = prev["start_offset_minutes"] + prev["duration_minutes"]
            if cur["start_offset_minutes"] < prev_end:
                problems.append(Problem(label, cur.get("id"), "start_offset_minutes",
                                        f"overlaps session {prev.get('id')} (starts at minute "
                                        f"{cur['start_offset_minutes']}, {prev.get('id')} ends at minute {prev_end})"))
            elif cur["start_offset_minutes"] > prev_end:
                problems.append(Problem(label, cur.get("id"), "start_offset_minutes",
                                        f"gap of {cur['start_offset_minutes'] - prev_end} min with no break after "
                                        f"session {prev.get('id')}"))
        if isinstance(limit, int) and todays:
            last = max(todays, key=lambda s: s["start_offset_minutes"] + s["duration_minutes"])
            end = last["start_offset_minutes"] + last["duration_minutes"]
            if end > limit:
                problems.append(Problem(label, last.get("id"), "duration_minutes",
                                        f"day {day} is too long: ends at minute {end}, limit is {limit}"))
    return problems


def validate_data(data: Any, label: str = "<curriculum>") -> list[Problem]:
    """Return every problem in an already-parsed curriculum (schema first, then semantics)."""
    if not isinstance(data, dict):
        return [Problem(label, None, None, "the curriculum must be a mapping at the top level")]
    problems = _schema_problems(data, label)
    problems += _semantic_problems(data, label)
    return problems


# --------------------------------------------------------------------------- overrides

def apply_overrides(data: dict, overrides: dict, label: str = "<overrides>") -> dict:
    """Merge an organisation's overrides into curriculum data (returns a new dict).

    Keys: ``title``, ``day_start``, ``follow_up`` (merged), ``sessions`` ({id: {field: value}}),
    ``add_sessions`` (list of full sessions), ``remove_sessions`` (ids), ``translations``
    ({id: title}; the key ``_title`` renames the curriculum), ``prompts`` (list replacing the
    prompts of every non-break session that uses the standard set).
    """
    if not isinstance(overrides, dict):
        raise CurriculumError([Problem(label, None, None, "overrides must be a mapping")])
    known = {"title", "day_start", "day_limit_minutes", "follow_up", "sessions", "add_sessions",
             "remove_sessions", "translations", "prompts"}
    problems = [Problem(label, None, k, "unknown override key") for k in overrides if k not in known]
    out = copy.deepcopy(data)
    for key in ("title", "day_start", "day_limit_minutes"):
        if key in overrides:
            out[key] = overrides[key]
    if isinstance(overrides.get("follow_up"), dict):
        out.setdefault("follow_up", {}).update(copy.deepcopy(overrides["follow_up"]))
    ids = {s.get("id") for s in out.get("sessions", []) if isinstance(s, dict)}
    remove = set(overrides.get("remove_sessions") or [])
    for sid in remove - ids:
        problems.append(Problem(label, sid, None, "remove_sessions names an unknown session"))
    out["sessions"] = [s for s in out.get("sessions", []) if not (isinstance(s, dict) and s.get("id") in remove)]
    if "prompts" in overrides:
        for s in out["sessions"]:
            if isinstance(s, dict) and s.get("kind") != "break":
                s["prompts"] = copy.deepcopy(overrides["prompts"])
    for sid, changes in (overrides.get("sessions") or {}).items():
        target = next((s for s in out["sessions"] if isinstance(s, dict) and s.get("id") == sid), None)
        if target is None:
            problems.append(Problem(label, sid, None, "override names an unknown session"))
            continue
        if not isinstance(changes, dict):
            problems.append(Problem(label, sid, None, "session override must be a mapping"))
            continue
        target.update(copy.deepcopy(changes))
    for sid, title in (overrides.get("translations") or {}).items():
        if sid == "_title":
            out["title"] = title
            continue
        target = next((s for s in out["sessions"] if isinstance(s, dict) and s.get("id") == sid), None)
        if target is None:
            problems.append(Problem(label, sid, "title", "translation names an unknown session"))
        else:
            target["title"] = title
    out["sessions"].extend(copy.deepcopy(overrides.get("add_sessions") or []))
    if problems:
        raise CurriculumError(problems)
    return out


# --------------------------------------------------------------------------- building

def _prompt(p: dict) -> Prompt:
    return Prompt(id=p["id"], text=p["text"], kind=p["kind"], scale_min=p.get("scale_min"),
                  scale_max=p.get("scale_max"))


def _build(data: dict, source: str) -> Curriculum:
    hh, mm = (int(x) for x in data["day_start"].split(":"))
    day_start = time(hh, mm)
    sessions = tuple(sorted((
        Session(
            id=s["id"], day=s["day"], start_offset_minutes=s["start_offset_minutes"],
            duration_minutes=s["duration_minutes"], kind=s["kind"], title=s["title"], day_start=day_start,
            objectives=tuple(s.get("objectives") or ()),
            activities=tuple(Activity(a["title"], a["minutes"], tuple(a["steps"])) for a in s.get("activities") or ()),
            materials=tuple(s.get("materials") or ()),
            facilitator_notes=tuple(s.get("facilitator_notes") or ()),
            prompts=tuple(_prompt(p) for p in s.get("prompts") or ()),
        ) for s in data["sessions"]), key=lambda s: (s.day, s.start_offset_minutes)))
    f = data["follow_up"]
    follow_up = FollowUp(f["interval_weeks"], f["count"], f["duration_minutes"], tuple(f["agenda"]),
                         tuple(_prompt(p) for p in f["prompts"]))
    return Curriculum(id=data["id"], title=data["title"], days=data["days"], day_start=day_start,
                      day_limit_minutes=data["day_limit_minutes"], sessions=sessions,
                      follow_up=follow_up, source=source)


def load_curriculum(path: str | os.PathLike | None = None,
                    overrides: str | os.PathLike | dict | None = None) -> Curriculum:
    """Load, merge overrides into, validate and return a curriculum.

    ``path`` defaults to the shipped lab. ``overrides`` is a mapping or a YAML file path; when it is
    None, ``$LAB_CURRICULUM_OVERRIDES`` or ``config/curriculum/overrides.yaml`` is used if present.
    Pass ``overrides=False`` to ignore any overrides file. Raises CurriculumError listing all problems.
    """
    p = Path(path) if path is not None else DEFAULT_PATH
    label = str(p)
    data = _read_yaml(p, label)
    if overrides is None:
        env = os.environ.get("LAB_CURRICULUM_OVERRIDES")
        cand = Path(env) if env else DEFAULT_OVERRIDES
        overrides = cand if cand.is_file() else None
    if overrides is not False and overrides is not None:
        if isinstance(overrides, dict):
            o_label, o_data = "<overrides>", overrides
        else:
            o_label = str(overrides)
            o_data = _read_yaml(Path(overrides), o_label)
        if o_data:
            if not isinstance(data, dict):
                raise CurriculumError(validate_data(data, label))
            data = apply_overrides(data, o_data, o_label)
            label = f"{label} + {o_label}"
    problems = validate_data(data, label)
    if problems:
        raise CurriculumError(problems)
    return _build(data, label)


# --------------------------------------------------------------------------- scheduling

def schedule(curriculum: Curriculum, day_dates: list[date], tz: str) -> list[ScheduledSession]:
    """Lay the curriculum onto real dates in an IANA time zone (aware datetimes, DST-correct)."""
    if len(day_dates) < curriculum.days:
        raise CurriculumError([Problem("<cohort>", None, "dates",
                                       f"{curriculum.days} dates needed, got {len(day_dates)}")])
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CurriculumError([Problem("<cohort>", None, "timezone", f"unknown time zone {tz!r}")])
    out = []
    for s in curriculum.sessions:
        d = day_dates[s.day - 1]
        if isinstance(d, str):
            d = date.fromisoformat(d)
        base = datetime.combine(d, curriculum.day_start, tzinfo=zone)
        # Aware + timedelta is wall-clock arithmetic within the zone; sessions run in daytime,
        # so the UTC offset is looked up for each resulting local time (correct across DST).
        start = base + timedelta(minutes=s.start_offset_minutes)
        end = base + timedelta(minutes=s.end_offset_minutes)
        out.append(ScheduledSession(s, s.day, d, start, end))
    return out


def half_day_blocks(scheduled_sessions: list[ScheduledSession]) -> list[Block]:
    """Group non-break sessions into morning/afternoon blocks per day, split at the lunch break.

    Lunch is the longest break of the day (at least 30 minutes); without one, noon splits the day.
    """
    blocks: list[Block] = []
    for day in sorted({s.day for s in scheduled_sessions}):
        todays = sorted((s for s in scheduled_sessions if s.day == day), key=lambda s: s.start)
        breaks = [s for s in todays if s.session.is_break and s.session.duration_minutes >= 30]
        if breaks:
            split = max(breaks, key=lambda s: s.session.duration_minutes).start
        else:
            split = todays[0].start.replace(hour=12, minute=0)
        for label, part in (("morning", [s for s in todays if s.start < split]),
                            ("afternoon", [s for s in todays if s.start >= split])):
            work = tuple(s for s in part if not s.session.is_break)
            if work:
                blocks.append(Block(day, label, work[0].start, work[-1].end, work))
    return blocks
