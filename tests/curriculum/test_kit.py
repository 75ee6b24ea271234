"""Facilitation kit renders to HTML and PDF; PDF pages are non-blank when rasterised."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lab_curriculum as lc
from lab_curriculum.kit import DOCUMENTS, load_sample_cohort

ROOT = Path(__file__).resolve().parents[2]
PDFTOPPM = shutil.which("pdftoppm") or ("/usr/bin/pdftoppm" if Path("/usr/bin/pdftoppm").exists() else None)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit")
    paths = lc.render_kit(out, curriculum=lc.load_curriculum(overrides=False), cohort=load_sample_cohort())
    return out, paths


def test_all_documents_in_both_formats(kit):
    out, paths = kit
    names = {p.name for p in paths}
    for slug, _ in DOCUMENTS:
        assert f"{slug}.html" in names and f"{slug}.pdf" in names
        assert (out / f"{slug}.pdf").read_bytes().startswith(b"%PDF")


def test_html_is_accessible_basics(kit):
    out, _ = kit
    for slug, title in DOCUMENTS:
        html = (out / f"{slug}.html").read_text(encoding="utf-8")
        assert '<html lang="en">' in html and f"<h1>{title}</h1>" in html and "@media print" in html
        if "<table" in html:
            assert 'scope="col"' in html


def test_agenda_shows_real_dates_and_dst(kit):
    out, _ = kit
    html = (out / "agenda.html").read_text(encoding="utf-8")
    assert "Friday 26 March 2027" in html and "Monday 29 March 2027" in html
    assert "09:00–09:45 CET (UTC+01:00)" in html
    assert "09:00–09:45 CEST (UTC+02:00)" in html
    assert "Europe/Berlin" in html


def test_guide_workbook_tents_content(kit):
    out, _ = kit
    guide = (out / "facilitator-guide.html").read_text(encoding="utf-8")
    assert "Facilitator notes" in guide and "every 2 weeks" in guide
    wb = (out / "participant-workbook.html").read_text(encoding="utf-8")
    assert "How much do I think my partner gained?" in wb and 'class="write"' in wb
    tents = (out / "table-tents.html").read_text(encoding="utf-8")
    assert "Ana Silva &amp; Ben Keller" in tents and "Pod A" in tents


def test_kit_without_cohort_html_only(tmp_path):
    paths = lc.render_kit(tmp_path, formats=("html",))
    assert all(p.suffix == ".html" for p in paths) and len(paths) == len(DOCUMENTS)
    assert "Day 1, 09:00–09:45" in (tmp_path / "facilitator-guide.html").read_text(encoding="utf-8")


def _ink_fraction(png: Path) -> float:
    from PIL import Image

    with Image.open(png) as im:
        g = im.convert("L")
        hist = g.histogram()
    dark = sum(hist[:200])
    return dark / (g.width * g.height)


def test_pdf_pages_are_not_blank(kit, tmp_path):
    if PDFTOPPM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm (poppler-utils) is required in CI")
        pytest.skip("pdftoppm not installed")
    out, _ = kit
    for slug, _ in DOCUMENTS:
        prefix = tmp_path / slug
        subprocess.run([PDFTOPPM, "-r", "30", "-png", str(out / f"{slug}.pdf"), str(prefix)], check=True,
                       timeout=60)
        pages = sorted(tmp_path.glob(f"{slug}-*.png"))
        assert pages, slug
        for page in pages:
            assert _ink_fraction(page) > 0.002, f"{page.name} looks blank"


def test_cli_kit(tmp_path):
    r = subprocess.run([sys.executable, "-m", "lab_curriculum", "kit", "--out", str(tmp_path / "k"),
                        "--cohort", str(ROOT / "lab_curriculum" / "data" / "sample_cohort.json"),
                        "--format", "html"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "k" / "agenda.html").exists()
    bad = tmp_path / "c.json"
    bad.write_text('{"name": "x", "timezone": "Nowhere/Zone", "dates": ["2027-01-01", "2027-01-02"]}')
    r = subprocess.run([sys.executable, "-m", "lab_curriculum", "kit", "--out", str(tmp_path / "k2"),
                        "--cohort", str(bad), "--format", "html"], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert r.returncode == 2 and "unknown time zone" in r.stderr and "Traceback" not in r.stderr
