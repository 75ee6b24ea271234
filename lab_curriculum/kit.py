"""The facilitation kit: guide, agenda, activity cards, workbook, checklist, table tents, handouts,
safety protocol, pre-work, evaluation and follow-up guide.

Rendered with Jinja2 to HTML with one print style sheet (``templates/kit.css``), then to PDF with
WeasyPrint. A cohort (COHORT.json) adds real dates, times, the time zone, names on the table tents,
the people count that sets every quantity, and the contacts of the safety protocol::

    {"name": "Spring lab", "timezone": "Europe/Berlin", "dates": ["2027-03-30", "2027-03-31"],
     "venue": "Berlin office", "video_link": "https://...", "facilitator": "Fran Keller",
     "contacts": {"hr": "Dana Ruiz, +49 30 1234", "eap": "...", "speak_up": "...", "emergency": "112"},
     "teams": [{"name": "Team 1", "members": ["Ana Costa", "Ben Okafor"], "pod": 1}]}

Inside a web app whose Content-Security-Policy forbids inline styles, pass ``stylesheet_href`` to
``render_html`` and serve ``stylesheet()`` at that address.
"""
from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import rules
from .loader import CurriculumError, load_curriculum
from .model import Curriculum, Material
from .schedule import schedule

DOCUMENTS = rules.DOCUMENTS
TEMPLATES = Path(__file__).parent / "templates"
SHEET_DOCUMENTS = {"cards", "tents"}  # printed edge to edge, cut or folded
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def stylesheet() -> str:
    """The kit's CSS, for serving as a file next to the HTML documents."""
    return (TEMPLATES / "kit.css").read_text(encoding="utf-8")


def read_cohort(path: str | Path) -> dict:
    try:
        cohort = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise CurriculumError([f"{path}: cannot read the cohort file: {e}"]) from e
    problems = []
    for key in ("name", "timezone", "dates"):
        if key not in cohort:
            problems.append(f"{path}: field {key}: missing")
    if not problems:
        try:
            cohort["dates"] = [date.fromisoformat(d) for d in cohort["dates"]]
        except (TypeError, ValueError):
            problems.append(f"{path}: field dates: use two dates as YYYY-MM-DD")
    if "people" in cohort and not (isinstance(cohort["people"], int) and cohort["people"] > 0):
        problems.append(f"{path}: field people: a positive whole number")
    if problems:
        raise CurriculumError(problems)
    return cohort


# --- sizes and quantities -------------------------------------------------------------------------

def room_size(curriculum: Curriculum, cohort: dict | None) -> dict | None:
    """People, teams, pods, small groups and facilitators for this cohort (None without a head count)."""
    teams = [t for t in (cohort or {}).get("teams", []) if t.get("members")]
    people = (cohort or {}).get("people") or sum(len(t["members"]) for t in teams)
    if not people:
        return None
    settings = curriculum.room
    pods: dict[str, list[dict]] = {}
    if teams:
        for i, team in enumerate(teams):
            pod = team.get("pod") or 1 + i // settings["pod_teams"]
            pods.setdefault(str(pod), []).append(team)
    team_count = len(teams) or max(1, people // 2)
    pod_count = len(pods) or rules.count("pod", people, settings, teams=team_count)
    return {"people": people, "teams": team_count, "pods": pod_count,
            "groups": rules.count("group", people, settings), "mixed": rules.count("mixed", people, settings),
            "facilitators": rules.facilitators(people, settings),
            "pod_list": sorted(pods.items(), key=lambda kv: (len(kv[0]), kv[0])),
            "outside_range": not settings["min_people"] <= people <= settings["max_people"]}


def quantity(material: Material, size: dict | None, spare_percent: int) -> int | None:
    """Copies (or items) of a material to prepare for this cohort, spares included."""
    if size is None:
        return None
    units = {"participant": size["people"], "team": size["teams"], "pod": size["pods"], "group": size["groups"],
             "facilitator": size["facilitators"], "room": 1,
             "team-and-pod": size["teams"] + size["pods"] + 2}[material.per]
    base = units * material.count
    spares = math.ceil(base * spare_percent / 100) if material.per in ("participant", "team", "group") else 0
    return base + spares + material.extra


def _sheets(material: Material, copies: int, activity_card_sheets: int) -> int | None:
    """A4 sheets to print when a copy is not one A4 page (card sets, cards four to a sheet, tents two to a sheet)."""
    if material.id == "activity-cards":
        return copies * activity_card_sheets
    if material.id == "table-tents":
        return math.ceil(copies / 2)
    if material.per_sheet > 1 or material.sheets > 1:
        return math.ceil(copies / material.per_sheet) * material.sheets
    return None


def rule_text(material: Material, spare_percent: int) -> str:
    """How the quantity is worked out, in words (for a kit without a head count)."""
    per = {"participant": "per participant", "team": "per team", "pod": "per pod", "group": "per small group",
           "facilitator": "per facilitator", "room": "for the room",
           "team-and-pod": "per team and per pod, plus 2 blank"}[material.per]
    text = f"{material.count} {per}"
    if material.per in ("participant", "team", "group") and spare_percent:
        text += f" + {spare_percent}%"
    if material.extra:
        text += f" + {material.extra}"
    return text


# --- building blocks for the templates --------------------------------------------------------------

def _items(curriculum: Curriculum, cohort: dict | None) -> list[dict]:
    if cohort:
        return [{"session": s.session, "date": s.start.strftime("%A %d %B %Y"),
                 "when": f"{s.start:%H:%M}–{s.end:%H:%M} {s.start.tzname()}",
                 "start": f"{s.start:%H:%M}", "end": f"{s.end:%H:%M}"}
                for s in schedule(curriculum, cohort["dates"], cohort["timezone"])]
    out = []
    for s in curriculum.sessions:
        end = s.end_offset_minutes + s.day_start.hour * 60 + s.day_start.minute
        out.append({"session": s, "date": None, "when": f"{s.start:%H:%M}–{end // 60:02d}:{end % 60:02d}",
                    "start": f"{s.start:%H:%M}", "end": f"{end // 60:02d}:{end % 60:02d}"})
    return out


def _uses(curriculum: Curriculum) -> dict[str, list[tuple]]:
    """Material id -> [(session, activity or None)] in programme order."""
    uses: dict[str, list[tuple]] = {}
    for s in curriculum.sessions:
        for m in s.material_ids:
            for a in [a for a in s.activities if m in a.material_ids] or [None]:
                uses.setdefault(m, []).append((s, a))
    return uses


def _rota(curriculum: Curriculum, size: dict | None) -> dict[str, str]:
    """Which pods or teams report in each session's harvest, rotating through the room."""
    if size is None:
        return {}
    pods = [f"Pod {label}" for label, _ in size["pod_list"]] or [f"Pod {n}" for n in range(1, size["pods"] + 1)]
    teams = [t.get("name") or f"Team {n}" for label, members in size["pod_list"] for n, t in enumerate(members, 1)] \
        or [f"Team {n}" for n in range(1, size["teams"] + 1)]
    pointers = {"pod": 0, "team": 0}
    rota = {}
    for s in curriculum.sessions:
        harvest = s.harvest
        if harvest is None or harvest.round is None or harvest.round.unit not in pointers:
            continue
        names = pods if harvest.round.unit == "pod" else teams
        wanted = harvest.round.sample or len(names)
        if wanted >= len(names):
            rota[s.id] = f"every {harvest.round.unit} ({len(names)})"
            continue
        start = pointers[harvest.round.unit]
        chosen = [names[(start + i) % len(names)] for i in range(wanted)]
        pointers[harvest.round.unit] = (start + wanted) % len(names)
        rota[s.id] = ", ".join(chosen)
    return rota


def _cards(curriculum: Curriculum, items: list[dict]) -> list[dict]:
    """One A6 card per activity that participants run themselves (participant text only)."""
    cards = []
    for item in items:
        s = item["session"]
        for a in s.activities:
            if not a.card:
                continue
            needs = [curriculum.material(m).title for m in a.material_ids]
            cards.append({"meta": f"Day {s.day} · {item['start']} · {s.title}", "title": a.title,
                          "chips": [rules.FORMAT_LABELS.get(a.format, a.format), f"{a.minutes} min"],
                          "lines": list(a.card), "optout": s.disclosure and not a.reflection,
                          "foot": ("You need: " + ", ".join(needs)) if needs else ""})
    return cards


def _tents(cohort: dict | None, size: dict | None) -> list[dict]:
    """Table tents: one per team, one per pod, and two blank ones for late changes."""
    tents = []
    for _pod, teams in (size or {}).get("pod_list", []):
        for team in teams:
            names = team.get("members", [])
            tents.append({"kind": "team", "names": names, "long": max(map(len, names), default=0) > 18,
                          "team": team.get("name", "Team") + (f" · Pod {team['pod']}" if team.get("pod") else "")})
    for pod, teams in (size or {}).get("pod_list", []):
        tents.append({"kind": "pod", "pod": pod, "teams": ", ".join(t.get("name", "") for t in teams)})
    if not tents and size:
        tents += [{"kind": "pod", "pod": str(n), "teams": ""} for n in range(1, size["pods"] + 1)]
    if size is None:  # no cohort yet: blank pod tents to write on, as many as needed
        tents += [{"kind": "pod", "pod": "____", "teams": ""}, {"kind": "pod", "pod": "____", "teams": ""}]
    tents += [{"kind": "blank"}, {"kind": "blank"}]
    return tents


def _chunks(items: list, n: int) -> list[list]:
    return [items[i:i + n] for i in range(0, len(items), n)]


def _dates(curriculum: Curriculum, cohort: dict | None) -> dict:
    """Dates derived from the cohort: each pre-work step and each follow-up week (None without a cohort)."""
    if not cohort:
        return {}
    first, last = cohort["dates"][0], cohort["dates"][min(len(cohort["dates"]), curriculum.days) - 1]
    return {"pre": {p["id"]: first - timedelta(days=p["days_before"]) for p in curriculum.texts.get("pre_work") or []},
            "monday": lambda n: last + timedelta(weeks=n) - timedelta(days=(last + timedelta(weeks=n)).weekday()),
            "day": [d.strftime("%A %d %B %Y") for d in cohort["dates"][:curriculum.days]]}


def _fmt_days(days: int) -> str:
    if days % 7 == 0 and days >= 14:
        return f"{days // 7} weeks before"
    return f"{days} days before" if days != 1 else "the day before"


_env.filters["days_before"] = _fmt_days
_env.filters["longdate"] = lambda d: d.strftime("%a %d %b %Y") if d else ""
_env.globals.update(format_label=lambda f: rules.FORMAT_LABELS.get(f, f), cos=math.cos, sin=math.sin,
                    plural=lambda unit: {"person": "people", "mixed": "mixed groups"}.get(unit, unit + "s"))


def render_html(curriculum: Curriculum | None = None, cohort: dict | None = None,
                stylesheet_href: str | None = None) -> dict[str, str]:
    """Every kit document as HTML text, by name (plus ``index``).

    With ``stylesheet_href`` the documents link that style sheet instead of carrying it inline, so they
    display under a Content-Security-Policy without ``'unsafe-inline'``.
    """
    curriculum = curriculum or load_curriculum()
    items = _items(curriculum, cohort)
    size = room_size(curriculum, cohort)
    spare = curriculum.room["spare_percent"]
    days: dict[int, list] = {}
    for item in items:
        days.setdefault(item["session"].day, []).append(item)
    cards = _cards(curriculum, items)
    quantities = {m.id: quantity(m, size, spare) for m in curriculum.materials}
    activity_sheets = _chunks(cards, 4)
    sheets = {m.id: _sheets(m, quantities[m.id], len(activity_sheets)) for m in curriculum.materials
              if quantities[m.id] is not None}
    rules_text = {m.id: rule_text(m, spare) for m in curriculum.materials}
    context = {
        "curriculum": curriculum, "cohort": cohort, "items": [i for i in items if not i["session"].is_break],
        "all_items": items, "days": sorted(days.items()), "size": size, "room": curriculum.room,
        "texts": curriculum.texts, "materials": {m.id: m for m in curriculum.materials},
        "quantities": quantities, "rules_text": rules_text, "uses": _uses(curriculum),
        "rota": _rota(curriculum, size), "halves": {f"{r.day}{r.half}": r for r in curriculum.half_day_reflections},
        "activity_sheets": activity_sheets, "card_count": len(cards), "sheets": {k: v for k, v in sheets.items() if v},
        "tent_sheets": _chunks(_tents(cohort, size), 2), "documents": DOCUMENTS, "dates": _dates(curriculum, cohort),
        "contacts": {**((cohort or {}).get("contacts") or {}),
                     **({"lead": cohort["facilitator"]} if (cohort or {}).get("facilitator") else {})},
        "stylesheet_href": stylesheet_href, "css": Markup(stylesheet()) if stylesheet_href is None else None,
        "sizes_table": [(n, max(1, n // 2), rules.count("pod", n, curriculum.room), rules.facilitators(n, curriculum.room))
                        for n in (12, 24, 40, 60, 80)],
    }
    out = {}
    for name, title in [*DOCUMENTS, ("index", "Facilitation kit")]:
        out[name] = _env.get_template(f"{name}.html").render(doc_name=name, doc_title=title,
                                                             sheet_document=name in SHEET_DOCUMENTS, **context)
    return out


def render_pdf(html: str, base_url: str | None = None) -> bytes:
    from weasyprint import HTML  # imported late: only PDF output needs Pango

    return HTML(string=html, base_url=base_url).write_pdf()


def render_kit(out_dir: str | Path, curriculum: Curriculum | None = None, cohort: dict | None = None,
               formats: tuple[str, ...] = ("html", "pdf")) -> list[Path]:
    """Write the kit to ``out_dir`` as HTML and/or PDF; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, html in render_html(curriculum, cohort).items():
        if "html" in formats:
            path = out / f"{name}.html"
            path.write_text(html, encoding="utf-8")
            written.append(path)
        if "pdf" in formats and name != "index":
            path = out / f"{name}.pdf"
            path.write_bytes(render_pdf(html, base_url=str(out)))
            written.append(path)
    return written
