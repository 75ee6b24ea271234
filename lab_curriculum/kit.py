"""Facilitation kit renderer: Jinja2 templates -> HTML (with print CSS) and PDF (WeasyPrint)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jinja2

from .core import PACKAGE_DIR, Curriculum, CurriculumError, Problem, half_day_blocks, load_curriculum, schedule

DOCUMENTS = (
    ("facilitator-guide", "Facilitator guide"),
    ("agenda", "Agenda"),
    ("activity-cards", "Activity cards"),
    ("participant-workbook", "Participant workbook"),
    ("pre-lab-checklist", "Pre-lab checklist"),
    ("table-tents", "Pod and team table tents"),
)
SAMPLE_COHORT = PACKAGE_DIR / "data" / "sample_cohort.json"


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(PACKAGE_DIR / "templates")),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _check_cohort(cohort: dict) -> list[date]:
    probs = []
    for key in ("name", "timezone", "dates"):
        if key not in cohort:
            probs.append(Problem("<cohort>", None, key, "missing"))
    if probs:
        raise CurriculumError(probs)
    try:
        return [date.fromisoformat(d) for d in cohort["dates"]]
    except (TypeError, ValueError) as exc:
        raise CurriculumError([Problem("<cohort>", None, "dates", f"bad date: {exc}")])


def render_kit(out_dir, curriculum: Curriculum | None = None, cohort: dict | None = None,
               formats=("html", "pdf")) -> list[Path]:
    """Write every kit document into ``out_dir`` in the given formats; return the written paths.

    ``cohort`` (optional) is a dict like ``data/sample_cohort.json``: name, timezone (IANA),
    dates (two ISO dates), venue, video_link, facilitator, teams [{name, members, pod}], pods [names].
    Without a cohort, times are shown as local clock times relative to each day.
    """
    cur = curriculum or load_curriculum()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scheduled = blocks = None
    if cohort:
        dates = _check_cohort(cohort)
        scheduled = schedule(cur, dates, cohort["timezone"])
        blocks = half_day_blocks(scheduled)
    css = (PACKAGE_DIR / "templates" / "kit.css").read_text(encoding="utf-8")
    env = _env()
    written: list[Path] = []
    teams = (cohort or {}).get("teams") or []
    pods = (cohort or {}).get("pods") or sorted({t.get("pod") for t in teams if t.get("pod")})
    for slug, title in DOCUMENTS:
        html = env.get_template(f"{slug}.html").render(
            cur=cur, cohort=cohort, scheduled=scheduled, blocks=blocks, css=css, doc_title=title,
            teams=teams, pods=pods, documents=DOCUMENTS)
        if "html" in formats:
            p = out / f"{slug}.html"
            p.write_text(html, encoding="utf-8")
            written.append(p)
        if "pdf" in formats:
            import weasyprint  # imported lazily: heavy, and only the PDF path needs it

            p = out / f"{slug}.pdf"
            weasyprint.HTML(string=html, base_url=str(out)).write_pdf(str(p))
            written.append(p)
    return written


def load_sample_cohort() -> dict:
    return json.loads(SAMPLE_COHORT.read_text(encoding="utf-8"))
