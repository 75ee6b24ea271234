"""The facilitation kit: guide, agenda, activity cards, workbook, checklist and table tents.

Rendered with Jinja2 to HTML with a print style sheet, then to PDF with WeasyPrint.
A cohort (COHORT.json) adds real dates, times and the time zone, and names on the table tents::

    {"name": "Spring lab", "timezone": "Europe/Berlin", "dates": ["2027-03-30", "2027-03-31"],
     "venue": "Berlin office", "video_link": "https://...", "facilitator": "Fran Keller",
     "teams": [{"name": "Team 1", "members": ["Ana Costa", "Ben Okafor"], "pod": 1}]}
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .loader import CurriculumError, load_curriculum
from .model import Curriculum
from .schedule import schedule

DOCUMENTS = [("guide", "Facilitator guide"), ("agenda", "Agenda"), ("cards", "Activity cards"),
             ("workbook", "Participant workbook"), ("checklist", "Pre-lab checklist"), ("tents", "Table tents")]
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]))


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
    if problems:
        raise CurriculumError(problems)
    return cohort


def _items(curriculum: Curriculum, cohort: dict | None):
    if cohort:
        rows = []
        for s in schedule(curriculum, cohort["dates"], cohort["timezone"]):
            rows.append({"session": s.session, "date": s.start.strftime("%A %d %B %Y"),
                         "when": f"{s.start:%H:%M}–{s.end:%H:%M} {s.start.tzname()}"})
        return rows
    out = []
    for s in curriculum.sessions:
        end = s.start_offset_minutes + s.duration_minutes + s.day_start.hour * 60 + s.day_start.minute
        out.append({"session": s, "date": None, "when": f"{s.start:%H:%M}–{end // 60:02d}:{end % 60:02d}"})
    return out


def render_html(curriculum: Curriculum | None = None, cohort: dict | None = None) -> dict[str, str]:
    """Every kit document as HTML text, by name."""
    curriculum = curriculum or load_curriculum()
    items = _items(curriculum, cohort)
    working = [i for i in items if not i["session"].is_break]
    days = {}
    for item in items:
        days.setdefault(item["session"].day, []).append(item)
    materials = sorted({m for s in curriculum.sessions for m in s.materials})
    tents = []
    for team in (cohort or {}).get("teams", []):
        tents.append({"title": team.get("name", "Team"), "subtitle": " & ".join(team.get("members", [])) +
                      (f" · Pod {team['pod']}" if team.get("pod") else "")})
    context = {"curriculum": curriculum, "cohort": cohort, "items": working, "days": sorted(days.items()),
               "materials": materials, "tents": tents, "documents": DOCUMENTS}
    out = {name: _env.get_template(f"{name}.html").render(doc_title=title, **context) for name, title in DOCUMENTS}
    out["index"] = _env.get_template("index.html").render(doc_title="Facilitation kit", **context)
    return out


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
            from weasyprint import HTML  # imported late: only PDF output needs Pango

            path = out / f"{name}.pdf"
            HTML(string=html, base_url=str(out)).write_pdf(path)
            written.append(path)
    return written
