"""The waiting list and the preview of a team formed by hand, in a real browser: axe-clean at 320 and
1000 px, with screenshots. The pages are rendered by the test app (a removal leaves Ana waiting) and
shown with the tool's stylesheet, so the shared demo server is left as it is."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_workflow_pages import axe_clean
from tests.facilitator.test_dropouts import active_teams, ids_by_sub
from tests.facilitator.test_waiting import published_lab, remove

CSS = (Path(__file__).parents[2] / "lti_tool" / "static" / "app.css").read_text()


def show(page, html: str) -> None:
    page.set_content(html.replace("</head>", f"<style>{CSS}</style></head>"))


@pytest.mark.parametrize("width", [320, 1000])
def test_waiting_list_and_trio_preview_are_axe_clean(app, platform, lti, client, page, width, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the page is the same on PostgreSQL")
    cid, _ = published_lab(app, platform, lti, client)
    ids = ids_by_sub(app)
    remove(client, cid, ids["ben"])
    show(page, client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True))
    page.get_by_role("heading", name="Waiting for a partner (1)").wait_for()
    axe_clean(page, width)
    screenshot(page, f"facilitator-waiting-{width}")
    team = active_teams(app)[frozenset({ids["eli"], ids["fay"]})]
    show(page, client.get(f"/facilitator/cohorts/{cid}/waiting/{ids['ana']}/preview",
                          query_string={"team": team}).get_data(as_text=True))
    page.get_by_role("heading", level=1, name="Check before forming this team").wait_for()
    axe_clean(page, width)
    screenshot(page, f"facilitator-waiting-preview-{width}")
