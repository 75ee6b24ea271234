"""The facilitation kit rendered for a 12-person and a 60-person cohort: every material the sessions name is
produced, cards are A6 four to an A4, tents two to an A4, quantities follow the head count, one-page documents
stay on one page, no page is blank, and the web pages display under the app's Content-Security-Policy."""
from __future__ import annotations

import functools
import http.server
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from markupsafe import escape

from lab_curriculum import load_curriculum, render_html, render_kit, stylesheet
from lab_curriculum.kit import DOCUMENTS
from lab_curriculum.loader import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[2]
LAB = load_curriculum(DEFAULT_PATH, overrides={})
NAMES = ["Ana Costa", "Ben Okafor", "Chen Wei", "Dara Nwosu", "Eli Brandt", "Fatima Al-Sayed", "Gus Lindqvist",
         "Hana Sato", "Ivo Petrov", "Jo Martínez", "Kemal Yilmaz", "Lena Fischer", "Maximiliane Oberhauser-Schmidt"]


def needs(tool: str) -> None:
    if not shutil.which(tool):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is missing (make test installs it)")
        pytest.skip(f"{tool} missing")


def cohort(people: int, trios: int, dates: list[str]) -> dict:
    """A cohort of pairs and ``trios`` trios, three teams to a pod, with names long and short."""
    names = [f"{NAMES[i % len(NAMES)]} {i // len(NAMES) + 1}" for i in range(people)]
    sizes = [3] * trios + [2] * ((people - 3 * trios) // 2)
    assert sum(sizes) == people
    teams, start = [], 0
    for n, size in enumerate(sizes):
        teams.append({"name": f"Team {n + 1}", "members": names[start:start + size], "pod": 1 + n // 3})
        start += size
    return {"name": f"Spring lab ({people})", "timezone": "Europe/Berlin", "dates": dates, "venue": "Room Kepler",
            "facilitator": "Fran Keller", "contacts": {"hr": "Dana Ruiz, +49 30 555 0101"}, "teams": teams}


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    """Both kits rendered once (HTML and PDF): 60 people from the command line, 12 from Python."""
    out = {}
    big = cohort(60, 2, ["2027-03-27", "2027-03-29"])  # Europe/Berlin changes to summer time in between
    folder = tmp_path_factory.mktemp("kit60")
    (folder / "cohort.json").write_text(json.dumps(big))
    run = subprocess.run([sys.executable, "-m", "lab_curriculum", "kit", "--out", str(folder / "kit"),
                          "--cohort", str(folder / "cohort.json")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    out[60] = (folder / "kit", big)
    small = cohort(12, 2, ["2027-05-04", "2027-05-05"])
    folder = tmp_path_factory.mktemp("kit12")
    from lab_curriculum import read_cohort

    (folder / "cohort.json").write_text(json.dumps(small))
    render_kit(folder / "kit", LAB, read_cohort(folder / "cohort.json"))
    out[12] = (folder / "kit", small)
    return out


def html(kits, people: int, name: str) -> str:
    return (kits[people][0] / f"{name}.html").read_text(encoding="utf-8")


def pdf_pages(path: Path) -> list[str]:
    """Each page's size line from pdfinfo."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return [line for line in info.splitlines() if re.match(r"Page\s+\d+ size:", line)]


@pytest.mark.parametrize("people", [12, 60])
def test_every_material_a_session_names_is_produced(kits, people):
    folder, _ = kits[people]
    named = {m for s in LAB.sessions for m in s.material_ids}
    assert len(named) >= 25
    checklist = html(kits, people, "checklist")
    for material_id in named:
        m = LAB.material(material_id)
        assert str(escape(m.title)) in checklist, m.title
        if m.kind != "print":
            continue
        document = html(kits, people, m.document)
        assert (folder / f"{m.document}.pdf").stat().st_size > 1000
        if m.document == "handouts":
            section = document.split(f'id="material-{material_id}"')[1].split('<section class="handout"')[0]
            assert len(re.sub(r"<[^>]+>|\s+", "", section)) > 150, f"{material_id} is nearly empty"
        elif material_id == "action-plan":
            assert 'id="action-plan"' in document
    handouts = html(kits, people, "handouts")
    assert "Version one: the rescue" in handouts and "Version two: two experts" in handouts  # the Reframing script
    for title in ("Knowledge map template", "Learning contract", "Goal wheel worksheet", "Role-play brief",
                  "Observer sheet", "Headline poster", "Power map"):
        assert title in handouts


@pytest.mark.parametrize("people", [12, 60])
def test_activity_cards_are_a6_four_to_an_a4_with_participant_text_only(kits, people):
    folder, _ = kits[people]
    with_cards = [(s, a) for s in LAB.sessions for a in s.activities if a.card]
    cards = html(kits, people, "cards")
    assert cards.count('<article class="a6') == len(with_cards) >= 25
    pages = pdf_pages(folder / "cards.pdf")
    assert len(pages) == math.ceil(len(with_cards) / 4)
    assert all("595.276 x 841.89 pts (A4)" in p for p in pages), pages
    assert cards.count('class="crop ') == 6 * len(pages)
    for _session, a in with_cards:
        for line in a.card:
            assert str(escape(line)) in cards
        for step in a.steps:  # the facilitator's steps stay in the guide
            assert str(escape(step)) not in cards, step
    assert "Small group of 3–4" in cards and "Your team" in cards and "Your pod" in cards
    assert "You choose what you share, and you may pass." in cards


@pytest.mark.parametrize("people", [12, 60])
def test_table_tents_one_per_team_and_pod_two_to_an_a4(kits, people):
    folder, group = kits[people]
    pods = {t["pod"] for t in group["teams"]}
    tents = html(kits, people, "tents")
    expected = len(group["teams"]) + len(pods) + 2  # and two blank ones for late changes
    assert tents.count('<div class="tent pos') == expected
    pages = pdf_pages(folder / "tents.pdf")
    assert len(pages) == math.ceil(expected / 2) and all("(A4)" in p for p in pages)
    for team in group["teams"]:
        for name in team["members"]:
            assert tents.count(str(escape(name))) == 2  # front and back of the fold
    assert all(f"Pod {p}</p>" in tents for p in pods)


@pytest.mark.parametrize("people, teams, pods, facilitators", [(12, 5, 2, 2), (60, 29, 10, 4)])
def test_checklist_counts_for_the_cohort(kits, people, teams, pods, facilitators):
    checklist = html(kits, people, "checklist")
    assert f"{people} participants</strong> in {teams} teams and {pods} pods" in checklist
    assert f"Facilitators: {facilitators}" in checklist

    def copies(title: str) -> int:
        row = re.search(re.escape(str(escape(title))) + r".*?<td class=\"num\">(\d+)", checklist, re.S)
        return int(row.group(1))

    assert copies("Participant workbook") == people + math.ceil(people / 10)
    assert copies("Learning contract") == teams + math.ceil(teams / 10)
    assert copies("Activity cards (one set per pod table)") == pods + 1
    assert copies("Table tents (one per team and one per pod)") == teams + pods + 2
    assert copies("Safety and escalation protocol") == facilitators + 1
    assert "Before the lab" in checklist and "What to print" in checklist
    for s in (s for s in LAB.sessions if not s.is_break):  # grouped by session
        assert f"· {escape(s.title)}</h3>" in checklist
    intake = checklist.index("Intake closes")
    assert intake < checklist.index("Matching run and reviewed") < checklist.index("Teams published")


def test_quantities_without_a_cohort_are_rules():
    checklist = render_html(LAB)["checklist"]
    assert "1 per participant + 10%" in checklist and "1 per team and per pod, plus 2 blank" in checklist


@pytest.mark.parametrize("people", [12, 60])
def test_guide_has_cover_contents_dividers_breaks_and_every_session_script(kits, people):
    _, group = kits[people]
    guide = html(kits, people, "guide")
    cover = guide.split('<nav class="toc"')[0]
    assert group["name"] in cover and "Fran Keller" in cover and "Room Kepler" in cover
    assert cover.count("2027") == 2
    for s in LAB.sessions:
        if s.is_break:
            continue
        assert f'href="#{s.id}"' in guide and f'id="{s.id}"' in guide
        section = guide.split(f'<section class="session" id="{s.id}">')[1].split("</section>")[0]
        assert str(escape(s.purpose)) in section
        assert section.count('<p class="say">') == len(s.activities)
        assert section.count('<p class="transition">') == len(s.activities)
        for heading in ("Key messages", "Debrief questions", "Virtual and hybrid", "Materials"):
            assert f"<h3>{heading}</h3>" in section
        assert "box harvest" in section
        assert ("box safety" in section) == s.disclosure
    assert 'id="day-1"' in guide and 'id="day-2"' in guide
    assert guide.count('class="break-row"') == len([s for s in LAB.sessions if s.is_break])
    assert "Why reciprocal mentoring" in guide and "mid-career managers" in guide
    assert 'id="safety-protocol"' in guide and "Dana Ruiz" in guide
    day_one = guide.split('id="day-1"')[1].split("</section>")[0]  # the divider carries the harvest rota
    assert ("every pod (2)" in day_one) if people == 12 else ("Pod 1, Pod 2, Pod 3, Pod 4" in day_one)


def test_agenda_keeps_local_hours_across_daylight_saving(kits):
    agenda = html(kits, 60, "agenda")
    assert "09:00–09:50 CET" in agenda and "09:00–10:30 CEST" in agenda and "Saturday 27 March 2027" in agenda
    assert agenda.count('class="break"') == len([s for s in LAB.sessions if s.is_break])


@pytest.mark.parametrize("people", [12, 60])
def test_workbook_has_action_plan_and_one_place_per_reflection(kits, people):
    workbook = html(kits, people, "workbook")
    plan = workbook.split('id="action-plan"')[1]
    assert all(f'<th scope="col">{h}</th>' in plan for h in ("Step", "By when", "Sign of success"))
    assert "My question for my partner tomorrow" in workbook
    for r in LAB.half_day_reflections:
        for p in r.prompts:
            if p.kind == "text":
                assert workbook.count(str(escape(p.text))) == 1


@pytest.mark.parametrize("people", [12, 60])
def test_pdf_pages_are_not_blank_and_one_pagers_fit(kits, people, tmp_path):
    needs("pdftoppm")
    from PIL import Image

    folder, _ = kits[people]
    for name, _title in DOCUMENTS:
        subprocess.run(["pdftoppm", "-r", "20", "-png", str(folder / f"{name}.pdf"), str(tmp_path / name)],
                       check=True)
        pages = sorted(tmp_path.glob(f"{name}-*.png"))
        assert pages, name
        for number, page in enumerate(pages, start=1):
            assert Image.open(page).convert("L").getextrema()[0] < 120, f"{page.name} is blank"
            if name not in ("cards", "tents"):  # no page carries only the spill of the one before
                text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(folder / f"{name}.pdf"),
                                       "-"], capture_output=True, text=True, check=True).stdout
                lines = [line for line in text.splitlines() if re.search("[A-Za-z]", line)]
                assert len(lines) >= 6, f"{name}.pdf page {number} holds only {lines}"
    assert len(pdf_pages(folder / "safety.pdf")) == 1
    assert len(pdf_pages(folder / "agenda.pdf")) == 1
    assert len(pdf_pages(folder / "workbook.pdf")) <= 6


def test_web_pages_link_the_stylesheet_and_carry_no_inline_style(kits):
    for name, text in render_html(LAB, stylesheet_href="/facilitator/kit/kit.css").items():
        assert "<style" not in text and '<link rel="stylesheet" href="/facilitator/kit/kit.css">' in text, name
        assert not re.search(r"<[^>]+\sstyle=", text), name
    for name, _title in DOCUMENTS:  # the standalone files embed it (for opening from disk and for PDF)
        assert "<style>" in html(kits, 12, name) and not re.search(r"<[^>]+\sstyle=", html(kits, 12, name))
    assert "@page" in stylesheet()


class _CspHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder under the app's style policy, remembering what was requested."""
    requested: list[str] = []

    def end_headers(self):
        self.send_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'nonce-test'")
        super().end_headers()

    def log_message(self, format, *args):
        _CspHandler.requested.append(self.path)


def console_errors(url: str) -> str:
    """What headless Chromium writes to its console while it loads ``url``."""
    run = subprocess.run([shutil.which("chromium") or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                          "--enable-logging=stderr", "--v=0", "--dump-dom", url],
                         capture_output=True, text=True, timeout=60)
    return "\n".join(line for line in run.stderr.splitlines() if "CONSOLE" in line)


def test_kit_pages_show_styled_under_the_apps_csp_in_chromium(tmp_path):
    needs("chromium")
    site = tmp_path / "site"
    site.mkdir()
    for name, text in render_html(LAB, stylesheet_href="kit.css").items():
        (site / f"{name}.html").write_text(text, encoding="utf-8")
    (site / "kit.css").write_text(stylesheet(), encoding="utf-8")
    (site / "inline.html").write_text(render_html(LAB)["agenda"], encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_CspHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert "Content Security Policy" in console_errors(f"{base}/inline.html")  # the old pages: blocked
        for name in ("guide", "cards", "tents"):
            _CspHandler.requested.clear()
            assert "Content Security Policy" not in console_errors(f"{base}/{name}.html"), name
            assert "/kit.css" in _CspHandler.requested, _CspHandler.requested
    finally:
        server.shutdown()
