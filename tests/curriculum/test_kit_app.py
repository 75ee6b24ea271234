"""The kit inside the app: its web pages link the kit's style sheet (served as text/css to facilitators) and
carry no inline style, so they display under the app's Content-Security-Policy; the PDFs embed their styles."""
from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta

import pytest

from lab_curriculum import stylesheet
from lab_curriculum.kit import DOCUMENTS
from tests.conftest import dated_lab, https_client
from tests.curriculum.test_kit import needs
from tests.lti_platform import Launcher

LAB_DAY = date.today() + timedelta(days=40)


@pytest.fixture
def cohort_id(app, platform):
    return dated_lab(app, platform, LAB_DAY, learners=("ana", "ben"))


def test_kit_pages_link_the_stylesheet_and_pass_the_csp(app, cohort_id, lti, client):
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    for name, _title in DOCUMENTS:
        page = client.get(f"/facilitator/cohorts/{cohort_id}/kit/{name}.html")
        assert page.status_code == 200 and page.mimetype == "text/html", name
        body = page.get_data(as_text=True)
        policy = page.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "style-src 'self'" in policy
        assert "<style" not in body and not re.search(r"<[^>]+\sstyle=", body), name
        assert '<link rel="stylesheet" href="/facilitator/kit/kit.css">' in body, name
    assert LAB_DAY.strftime("%d %B %Y") in client.get(f"/facilitator/cohorts/{cohort_id}/kit/guide.html").get_data(
        as_text=True)
    css = client.get("/facilitator/kit/kit.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and css.get_data(as_text=True) == stylesheet()


def test_kit_pdf_still_embeds_its_styles(app, cohort_id, lti, client, tmp_path):
    needs("pdftotext")
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    pdf = client.get(f"/facilitator/cohorts/{cohort_id}/kit/safety.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (tmp_path / "safety.pdf").write_bytes(pdf.data)
    info = subprocess.run(["pdfinfo", str(tmp_path / "safety.pdf")], capture_output=True, text=True, check=True)
    assert re.search(r"Pages:\s+1\n", info.stdout)  # laid out by the print style sheet: one page
    text = subprocess.run(["pdftotext", str(tmp_path / "safety.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Safety and escalation protocol" in text and "Employee assistance" in text


def test_learners_get_neither_the_kit_nor_its_stylesheet(app, cohort_id, platform):
    learner = Launcher(https_client(app), platform)
    learner(role="learner", sub="ana", name="Ana", email="ana@example.com", custom={"cohort": "lab"})
    assert learner.client.get("/facilitator/kit/kit.css").status_code == 403
    assert learner.client.get(f"/facilitator/cohorts/{cohort_id}/kit/agenda.html").status_code == 403
