"""The rules a facilitation kit must keep, beyond the schema: time, size, content, materials, safety.

Sizes are computed for the whole range the lab is designed for (``room.min_people`` to
``room.max_people``), so a plenary round that fits 12 people but not 80 is refused. The same
arithmetic gives the kit its counts (teams, pods, facilitators, copies to print).
"""
from __future__ import annotations

import math
from pathlib import Path

# The kit's documents, by name and title (the web app lists and serves these names).
DOCUMENTS = [("guide", "Facilitator guide"), ("agenda", "Agenda"), ("cards", "Activity cards"),
             ("workbook", "Participant workbook"), ("checklist", "Preparation checklist"), ("tents", "Table tents"),
             ("handouts", "Handouts and templates"), ("safety", "Safety and escalation protocol"),
             ("prework", "Before the lab: briefings and pre-work"), ("evaluation", "Evaluation plan and forms"),
             ("followup", "After the lab: follow-up guide")]
HANDOUTS = Path(__file__).resolve().parent / "templates" / "handouts"
ROOM_DEFAULTS = {"min_people": 12, "max_people": 80, "people_per_facilitator": 16, "min_facilitators": 2,
                 "pod_teams": 3, "transition_minutes": 2, "max_stretch_minutes": 120, "spare_percent": 10}
FORMAT_LABELS = {"room": "Whole room", "team": "Your team", "pod": "Your pod", "group": "Small group of 3–4",
                 "mixed": "Mixed group", "solo": "On your own"}
CARD_CHARACTERS = 560  # what fits on an A6 card at the card's type size
LUNCH_MINUTES = 45  # a break at least this long splits a day into morning and afternoon


def room(data: dict) -> dict:
    return {**ROOM_DEFAULTS, **(data.get("room") or {})}


def count(unit: str, people: int, settings: dict, teams: int | None = None, pods: int | None = None) -> int:
    """How many units of a kind there are in a room of ``people`` (the most there can be)."""
    teams = teams if teams is not None else max(1, people // 2)
    if unit == "person":
        return people
    if unit == "team":
        return teams
    if unit == "pod":
        return pods if pods is not None else max(1, math.ceil(teams / settings["pod_teams"]))
    if unit == "group":
        return max(1, people // 3)
    if unit == "mixed":
        return max(1, math.ceil(people / 6))
    if unit == "facilitator":
        return facilitators(people, settings)
    return 1  # room


def largest(unit: str, settings: dict) -> int:
    """The most people a unit can hold: a team is a pair or trio, a small group three or four."""
    return {"person": 1, "solo": 1, "team": 3, "group": 4, "pod": 3 * settings["pod_teams"], "mixed": 7,
            "room": settings["max_people"]}[unit]


def facilitators(people: int, settings: dict) -> int:
    return max(settings["min_facilitators"], math.ceil(people / settings["people_per_facilitator"]))


def activity_minutes_needed(activity: dict, people: int, settings: dict) -> tuple[float, str]:
    """Minutes the activity's turns and reporting rounds need at this size, and how that was worked out."""
    needed, how = 0.0, []
    turns = activity.get("turns")
    if turns:
        size = largest(activity.get("format", "team"), settings)
        needed += size * turns["minutes_each"]
        how.append(f"turns: {size} people × {turns['minutes_each']:g} min")
    r = activity.get("round")
    if r:
        groups = count(r["unit"], people, settings)
        reporting = min(r.get("sample") or groups, groups)
        needed += reporting * r["minutes_each"]
        label = f"{reporting} of {groups} {r['unit']}s" if r.get("sample") else f"all {groups} {r['unit']}s"
        how.append(f"round: {label} × {r['minutes_each']:g} min")
    return needed, "; ".join(how)


def half_of(session: dict, sessions: list[dict]) -> str:
    """morning or afternoon: before or after the day's lunch break."""
    lunch = next((s for s in sessions if s["day"] == session["day"] and s["kind"] == "break"
                  and s["duration"] >= LUNCH_MINUTES), None)
    return "morning" if lunch is None or session["start"] < lunch["start"] else "afternoon"


def check_kit(data: dict, source: str) -> list[str]:
    """Every problem with timing, sizing, facilitation content, materials, safety and evaluation."""
    settings = room(data)
    problems: list[str] = []

    def session_problem(s: dict, field: str, text: str) -> None:
        problems.append(f"{source}: session {s['id']}: field {field}: {text}")

    if settings["min_people"] > settings["max_people"]:
        problems.append(f"{source}: field room: min_people is larger than max_people")
    catalogue = {m["id"]: m for m in data.get("materials") or []}
    documents = dict(DOCUMENTS)
    for m in catalogue.values():
        if m["kind"] == "print":
            if m.get("document") not in documents:
                problems.append(f"{source}: field materials: {m['id']} is printed but names no kit document "
                                f"({', '.join(documents)})")
            elif m["document"] == "handouts" and not (HANDOUTS / f"{m['id']}.html").exists():
                problems.append(f"{source}: field materials: {m['id']} has no handout template "
                                f"(templates/handouts/{m['id']}.html)")
    working = [s for s in data["sessions"] if s["kind"] != "break"]
    for s in working:
        _check_session(s, settings, catalogue, session_problem)
    problems += _check_stretches(data, settings, source)
    problems += _check_reflections(data, source)
    problems += _check_pre_work(data, source)
    problems += _check_follow_up(data, source)
    problems += _check_evaluation(data, source)
    return problems


def _check_session(s: dict, settings: dict, catalogue: dict, problem) -> None:
    activities = s.get("activities", [])
    for field in ("purpose", "key_messages", "debrief", "virtual"):
        if not s.get(field):
            problem(s, field, f"a {s['kind']} session needs {field.replace('_', ' ')} for the facilitator")
    if activities and not any(a.get("harvest") for a in activities):
        problem(s, "activities", "no activity is the session's harvest (mark one with harvest: true)")
    planned = sum(a["minutes"] for a in activities)
    transitions = settings["transition_minutes"] * len(activities)
    if activities and planned + transitions > s["duration"]:
        problem(s, "activities", f"activities take {planned} minutes plus {transitions} minutes of transitions "
                                 f"({settings['transition_minutes']} before each of {len(activities)}) "
                                 f"but the session lasts {s['duration']}")
    elif activities and planned + transitions < s["duration"] - 10:
        problem(s, "activities", f"activities and transitions fill only {planned + transitions} of "
                                 f"{s['duration']} minutes")
    used = list(s.get("materials", []))
    for i, a in enumerate(activities):
        where = f"activities.{i}"
        for field in ("format", "purpose", "say", "transition"):
            if not a.get(field):
                problem(s, f"{where}.{field}", f"activity '{a['title']}' needs a {field}")
        if a.get("format") not in (None, "room") and not a.get("card"):
            problem(s, f"{where}.card", f"activity '{a['title']}' is done by participants and needs card text")
        card = " ".join(a.get("card") or [])
        if len(card) > CARD_CHARACTERS:
            problem(s, f"{where}.card", f"{len(card)} characters do not fit an A6 card (at most {CARD_CHARACTERS})")
        if a.get("harvest") and not a.get("round"):
            problem(s, f"{where}.round", f"the harvest '{a['title']}' needs a round (who reports, for how long)")
        for people in (settings["min_people"], settings["max_people"]):
            needed, how = activity_minutes_needed(a, people, settings)
            if needed > a["minutes"]:
                problem(s, where, f"'{a['title']}' does not fit {people} people: {how} = {needed:g} minutes "
                                  f"but the activity lasts {a['minutes']}")
        used += a.get("materials", [])
    for material in dict.fromkeys(used):
        if material not in catalogue:
            problem(s, "materials", f"'{material}' is not in the kit's materials list")
    if s.get("disclosure"):
        if not s.get("safety"):
            problem(s, "safety", "the session invites disclosure and needs a safety note")
        if "safety-protocol" not in s.get("materials", []):
            problem(s, "materials", "the session invites disclosure and must reference the safety-protocol")


def _check_stretches(data: dict, settings: dict, source: str) -> list[str]:
    problems = []
    limit = settings["max_stretch_minutes"]
    for day in sorted({s["day"] for s in data["sessions"]}):
        run = 0
        for s in sorted((s for s in data["sessions"] if s["day"] == day), key=lambda s: s["start"]):
            run = 0 if s["kind"] == "break" else run + s["duration"]
            if run > limit:
                problems.append(f"{source}: session {s['id']}: field start: {run} minutes of sessions without a "
                                f"break on day {day} (at most {limit})")
                run = 0
    return problems


def _check_reflections(data: dict, source: str) -> list[str]:
    problems = []
    sessions = {s["id"]: s for s in data["sessions"]}
    halves = {(s["day"], half_of(s, data["sessions"])) for s in data["sessions"] if s["kind"] != "break"}
    seen: dict[tuple, str] = {}
    for r in data.get("reflections") or []:
        where = f"{source}: field reflections: {r['id']}"
        key = (r["day"], r["half"])
        if key in seen:
            problems.append(f"{where}: day {r['day']} {r['half']} already has the reflection {seen[key]}")
        seen[key] = r["id"]
        after = sessions.get(r["after"])
        if after is None:
            problems.append(f"{where}: no session {r['after']}")
        elif (after["day"], half_of(after, data["sessions"])) != key:
            problems.append(f"{where}: session {r['after']} is not on day {r['day']} in the {r['half']}")
        elif not any(a.get("reflection") for a in after.get("activities", [])):
            problems.append(f"{where}: session {r['after']} has no activity with time for it (reflection: true)")
    for day, half in sorted(halves - set(seen)):
        problems.append(f"{source}: field reflections: day {day} {half} has no half-day reflection")
    return problems


def _check_pre_work(data: dict, source: str) -> list[str]:
    problems = []
    steps = {p["id"]: p for p in data.get("pre_work") or []}
    for p in steps.values():
        for before in p.get("after", []):
            if before not in steps:
                problems.append(f"{source}: field pre_work: {p['id']}: after names unknown step {before}")
            elif steps[before]["days_before"] <= p["days_before"]:
                problems.append(f"{source}: field pre_work: {p['id']} ({p['days_before']} days before) must come "
                                f"after {before} ({steps[before]['days_before']} days before)")
    return problems


def _check_follow_up(data: dict, source: str) -> list[str]:
    problems = []
    f = data["follow_up"]
    meetings = f.get("meetings") or []
    if meetings and len(meetings) != f["count"]:
        problems.append(f"{source}: field follow_up.meetings: {len(meetings)} agendas for {f['count']} meetings")
    for m in meetings:
        total = sum(item["minutes"] for item in m["agenda"])
        if total > f["duration_minutes"]:
            problems.append(f"{source}: field follow_up.meetings: meeting {m['number']} takes {total} minutes, "
                            f"longer than {f['duration_minutes']}")
        expected = 1 + (m["number"] - 1) * f["interval_weeks"]  # the series starts the week after the lab
        if m["week"] != expected:
            problems.append(f"{source}: field follow_up.meetings: meeting {m['number']} is in week {m['week']}, "
                            f"but with a meeting every {f['interval_weeks']} weeks from the week after the lab "
                            f"it falls in week {expected}")
    return problems


def _check_evaluation(data: dict, source: str) -> list[str]:
    evaluation = data.get("evaluation")
    if not evaluation:
        return [f"{source}: field evaluation: the kit needs an evaluation plan"]
    problems = []
    levels = sorted(level["level"] for level in evaluation["levels"])
    if levels != [1, 2, 3, 4]:
        problems.append(f"{source}: field evaluation.levels: needs levels 1 to 4 once each (has {levels})")
    known = {i["id"] for i in evaluation["instruments"]} | {"half-day-reflections"}
    for level in evaluation["levels"]:
        for instrument in level["instruments"]:
            if instrument not in known:
                problems.append(f"{source}: field evaluation.levels: level {level['level']} names unknown "
                                f"instrument {instrument}")
    return problems
