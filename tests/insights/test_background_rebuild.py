"""After a data change, a large deployment's insights page is rebuilt in the background: the page first shows
the previous figures, with their time, then the new ones; a small deployment's page is rebuilt at once."""
from __future__ import annotations

from datetime import date

from tests.insights.helpers import add_cohort, person
from tests.insights.test_overview import _lnd

NOTICE = "brought up to date every few minutes"


def _join_rebuilds():
    from lti_tool.services import insights

    for thread in list(insights._REBUILDING.values()):
        thread.join(timeout=60)
    assert not insights._REBUILDING


def _people(html: str) -> str:
    return html.split('<dt>People enrolled</dt><dd>')[1].split("</dd>")[0].strip()


def test_a_slow_page_shows_the_previous_figures_while_the_new_ones_are_built(app, client, lti, monkeypatch):
    monkeypatch.setitem(app.config, "INSIGHTS_REBUILD_INLINE_SECONDS", -1)  # every build counts as slow
    monkeypatch.setitem(app.config, "INSIGHTS_REFRESH_SECONDS", 0)
    _lnd(lti)  # the launch answers with the insights page, drawn before the launch's own rows are committed
    add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(6)])
    client.get("/insights/")  # the figures of the six: built now, or in the background after older ones
    _join_rebuilds()
    first = client.get("/insights/").get_data(as_text=True)
    assert _people(first) == "6" and NOTICE not in first

    add_cohort(app, "Summer", date(2026, 6, 1), [person() for _ in range(5)])
    meanwhile = client.get("/insights/").get_data(as_text=True)
    assert NOTICE in meanwhile and _people(meanwhile) == "6"  # the audited page of the data before

    _join_rebuilds()
    after = client.get("/insights/").get_data(as_text=True)
    assert NOTICE not in after and _people(after) == "11"


def test_a_slow_page_is_brought_up_to_date_at_most_every_refresh_interval(app, client, lti, monkeypatch):
    from lti_tool.services import insights

    monkeypatch.setitem(app.config, "INSIGHTS_REBUILD_INLINE_SECONDS", -1)
    monkeypatch.setitem(app.config, "INSIGHTS_REFRESH_SECONDS", 0)
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(6)])
    client.get("/insights/")
    _join_rebuilds()  # the figures of the six, built now
    monkeypatch.setitem(app.config, "INSIGHTS_REFRESH_SECONDS", 3600)
    assert _people(client.get("/insights/").get_data(as_text=True)) == "6"
    add_cohort(app, "Summer", date(2026, 6, 1), [person() for _ in range(5)])
    page = client.get("/insights/").get_data(as_text=True)
    assert NOTICE in page and _people(page) == "6" and not insights._REBUILDING  # younger than an hour: kept


def test_a_quick_page_is_rebuilt_in_the_request(app, client, lti):
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(6)])
    assert _people(client.get("/insights/").get_data(as_text=True)) == "6"
    add_cohort(app, "Summer", date(2026, 6, 1), [person() for _ in range(5)])
    page = client.get("/insights/").get_data(as_text=True)
    assert NOTICE not in page and _people(page) == "11"
