"""Insights: aggregates only, small groups suppressed in pages and CSV, CSV injection guard, query count."""
from __future__ import annotations

import csv
import io

from sqlalchemy import event

from tests.insights.helpers import seed
from tests.reflections.helpers import launch


def _lnd(lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)


def _csv(response):
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_insights_page_shows_aggregates_charts_and_tables(app, client, lti):
    _lnd(lti)
    seed(app, cohorts=2, per_cohort=6)
    html = client.get("/insights/").get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html and "<figcaption>" in html
    assert "Cohort 1" in html and "Cohort 2" in html
    assert "SECRET-" not in html  # no individual answer
    assert "4.0" in html and "3.0" in html  # mean gains
    rows = _csv(client.get("/insights/export/overview.csv"))
    assert rows[0] == ["Measure", "Value", "Note"]  # the note column explains the markers
    assert ["People", "12"] == rows[1][:2]


def test_small_groups_are_merged_or_suppressed_in_page_and_csv(app, client, lti):
    _lnd(lti)
    # 6 in Finance, 3 in Legal, 2 in Tiny-Dept per cohort... one cohort of 11
    seed(app, cohorts=1, per_cohort=11, departments=("Finance", "Finance", "Legal", "Finance", "Tiny-Dept",
                                                       "Finance", "Legal", "Finance", "Tiny-Dept", "Legal", "Finance"))
    seed(app, cohorts=1, per_cohort=3)  # a cohort of 3: never shown on its own
    html = client.get("/insights/").get_data(as_text=True)
    by_dept = html.split('id="table-by_department"')[1].split("</table>")[0]
    assert "Finance" in by_dept and "Legal" not in by_dept and "Tiny-Dept" not in by_dept
    assert "Other (smaller groups and not stated)" in by_dept  # Legal 3 + Tiny 2 + 3 Finance? merged = enough
    rows = _csv(client.get("/insights/export/by_department.csv"))
    names = [r[0] for r in rows[1:]]
    assert "Legal" not in names and "Tiny-Dept" not in names
    by_cohort = _csv(client.get("/insights/export/by_cohort.csv"))
    sizes = [int(r[1]) for r in by_cohort[1:] if len(r) > 1 and r[1].isdigit()]
    assert all(n >= 5 for n in sizes)
    assert "Tiny-Dept" not in html  # not offered as a filter either
    assert client.get("/insights/?department=Tiny-Dept").status_code == 200
    assert "Tiny-Dept" not in client.get("/insights/export/by_department.csv?department=Tiny-Dept").get_data(as_text=True)


def test_a_selection_smaller_than_the_minimum_shows_no_figures(app, client, lti):
    _lnd(lti)
    ids = seed(app, cohorts=1, per_cohort=3)
    html = client.get(f"/insights/?cohort={ids[0]}").get_data(as_text=True)
    assert "Fewer than 5 people match these filters" in html
    rows = _csv(client.get(f"/insights/export/overview.csv?cohort={ids[0]}"))
    assert rows[0] == ["Measure", "Value", "Note"] and len(rows) == 7
    assert all(r[1] == "not shown" for r in rows[1:])
    assert "Fewer than 5 people" in rows[1][2] and all(r[2] == "" for r in rows[2:])


def test_csv_injection_is_neutralised(app, client, lti):
    _lnd(lti)
    seed(app, cohorts=1, per_cohort=6, departments=("=HYPERLINK(\"http://evil\")",))
    rows = _csv(client.get("/insights/export/by_department.csv"))
    cells = [c for r in rows for c in r]
    assert "'=HYPERLINK(\"http://evil\")" in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_safe_cell_unit():
    from datetime import date

    from lti_tool.insights.exports import safe_cell

    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell(date(2026, 3, 1)) == "2026-03-01" and safe_cell(5) == 5 and safe_cell("ok") == "ok"
    assert safe_cell(-3) == "'-3"


def test_filters_by_cohort_date_and_department(app, client, lti):
    _lnd(lti)
    ids = seed(app, cohorts=3, per_cohort=6)
    one = _csv(client.get(f"/insights/export/by_cohort.csv?cohort={ids[1]}"))
    assert [r[0] for r in one[1:]] == ["Cohort 2"]
    dated = _csv(client.get("/insights/export/by_cohort.csv?from=2026-03-20&to=2026-04-30"))
    assert [r[0] for r in dated[1:]] == ["Cohort 2"]
    assert "use a date like" in client.get("/insights/?from=yesterday").get_data(as_text=True)
    dept = _csv(client.get("/insights/export/overview.csv?department=Finance"))
    assert ["People", "18"] == dept[1][:2]


def test_another_deployment_is_never_counted(app, client, lti):
    from tests.conftest import register
    from tests.lti_platform import Launcher, TestPlatform

    other = TestPlatform(deployment_id="deploy-other")
    try:
        register(app, other)
        Launcher(client, other)(role="learner", sub="x", custom={"cohort": "elsewhere"})
        from lti_tool.extensions import db
        from lti_tool.models import Course

        with app.app_context():
            other_course = db.session.execute(db.select(Course.id)).scalars().first()
        seed(app, cohorts=1, per_cohort=6, course_id=other_course)
    finally:
        other.close()
    _lnd(lti)
    html = client.get("/insights/").get_data(as_text=True)
    assert "Elsewhere" not in html and "Cohort 1" not in html


def _count_queries(app, client, path):
    from lti_tool.extensions import db

    count = {"n": 0}

    def before(*_args, **_kwargs):
        count["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count["n"]


def test_query_count_does_not_grow_with_cohorts(app, client, lti):
    _lnd(lti)
    seed(app, cohorts=2, per_cohort=6)
    few = _count_queries(app, client, "/insights/")
    seed(app, cohorts=8, per_cohort=6)
    many = _count_queries(app, client, "/insights/")
    assert many == few, (few, many)
    assert few <= 15
