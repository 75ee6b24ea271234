"""The L&D overview answers "is it working?" at a glance, at 1280 and 390 px: headline figures, the funnel,
gain over time, cohorts compared; values not cut off, charts readable, axe clean."""
from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_workflow_pages import axe_clean, open_tool_page

LND = ("Launch as L&D administrator Lee", "Lab cohorts across your organisation")


@pytest.mark.parametrize("width", [1280, 390])
def test_overview_at_a_glance(page, live_server, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_tool_page(page, live_server, *LND)
    headline = page.locator("dl.headline")
    assert headline.get_by_text("People enrolled").is_visible()
    for name in ("From enrolment to follow-up", "Reported mutual gain over time", "Cohorts compared"):
        page.get_by_role("heading", level=2, name=name).wait_for()
    funnel = page.locator("#table-funnel")
    assert funnel.get_by_role("rowheader", name="Held at least one follow-up meeting").is_visible()
    # no value is cut off: every cell's text fits its box
    cut = page.evaluate("""() => [...document.querySelectorAll('td, th, dd')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim())""")
    assert cut == []
    # chart text stays readable: at least 10 px as drawn
    smallest = page.evaluate("""() => Math.min(...[...document.querySelectorAll('svg.chart text')]
        .map(t => t.getBoundingClientRect().height))""")
    assert smallest >= 10
    axe_clean(page, width)
    screenshot(page, f"insights-overview-{width}")
