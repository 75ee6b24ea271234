"""An L&D administrator whose LMS speaks German reads the overview, its charts and its CSV in German:
titles, column heads, funnel stages, group labels and notes, not only the page's own sentences."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from tests.insights.helpers import add_cohort, person

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MARCH = datetime(2026, 3, 10)
ENGLISH_LABELS = ["From enrolment to follow-up", "Matched with a partner", "Intake completed (%)", "By cohort",
                  "People enrolled", "Reflections over time", "Own gain", "Other cohorts", "not shown", "Woman"]


def _lnd_in_german(lti):
    response = lti(role="lnd", sub="lnd", name="Lena", email="lena@example.com",
                   extra={LTI + "launch_presentation": {"document_target": "iframe", "locale": "de-DE"}})
    assert response.status_code in (200, 302, 303)


def _lab(app):
    people = [person(ratings=[(4, 4, MARCH)]) for _ in range(6)] + [person(gender="man") for _ in range(5)]
    add_cohort(app, "Frühling", date(2026, 3, 2), people, teams=[(i, i + 1, 0.9) for i in range(0, 10, 2)])
    add_cohort(app, "Klein", date(2026, 4, 6), [person() for _ in range(2)])  # too small: joins "other cohorts"


def test_the_overview_speaks_german(app, client, lti):
    _lnd_in_german(lti)
    _lab(app)
    html = client.get("/insights/").get_data(as_text=True)
    assert 'lang="de"' in html
    for german in ("Von der Einschreibung bis zum Folgetreffen", "Mit einem Partner gepaart", "Nach Kohorte",
                   "Eingeschriebene Personen", "nicht angezeigt", "Frau", "Andere Kohorten"):
        assert german in html, german
    for english in ENGLISH_LABELS:
        assert english not in html, english


def test_the_csv_speaks_german(app, client, lti):
    _lnd_in_german(lti)
    _lab(app)
    body = client.get("/insights/export/funnel.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Stufe", "Personen", "Anteil der Eingeschriebenen (%)", "Hinweis"]
    assert [r[0] for r in rows[1:]][:3] == ["Eingeschrieben", "Fragebogen ausgefüllt", "Mit einem Partner gepaart"]
    assert not any(english in body for english in ENGLISH_LABELS)
