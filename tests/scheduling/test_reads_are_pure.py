"""No GET request writes: every page and download reachable by link, for every role, issues only reads.

Two first views at once used to collide inserting the same calendar rows; a read that writes also
hides changes (a download raised SEQUENCE before the invites went out). Writing is the job of the
actions that change things (forms posted), so this walks every link a person can follow.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from sqlalchemy import event

from lti_tool.extensions import db
from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b", re.IGNORECASE)
# The one write a read may make: the audit log records who downloaded people's data (an export).
AUDIT = re.compile(r"^\s*INSERT INTO audit_event\b", re.IGNORECASE)
# OIDC login initiation must store its state and nonce: that is the protocol, not a page view.
NOT_PAGES = ("/lti/login", "/lti/launch", "/dev/")


def links(html: str, base: str) -> list[str]:
    found = []
    # Links, and the private calendar addresses shown for copying into a calendar app.
    for href in re.findall(r'href="([^"#]+)', html) + re.findall(r'https://tool\.test(/calendar/[^<\s"]+)', html):
        url = urljoin(base, href.replace("&amp;", "&"))
        parts = urlsplit(url)
        if parts.netloc in ("", "tool.test") and not parts.path.startswith(NOT_PAGES):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(client, start: str, limit: int = 60) -> dict[str, list[str]]:
    """GET every same-site link reachable from ``start``; returns the writes each made."""
    writes: dict[str, list[str]] = {}
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        queue, seen = [start], {start}
        while queue and len(seen) <= limit:
            path = queue.pop(0)
            statements.clear()
            response = client.get(path)
            writes[path] = [s for s in statements if WRITE.match(s) and not AUDIT.match(s)]
            assert response.status_code < 500, f"GET {path}: {response.status_code}"
            if response.mimetype == "text/html":
                for link in links(response.get_data(as_text=True), "https://tool.test" + path):
                    if link not in seen:
                        seen.add(link)
                        queue.append(link)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return writes


def test_no_get_writes_for_any_role(app, lab, platform):
    cohort_id, learners = lab
    facilitator = https_client(app)
    Launcher(facilitator, platform)(role="instructor", sub="fran", name="Fran", email="fran@example.com",
                                    custom={"cohort": "lab"})
    # The private feeds exist (made by a POST), so their addresses are on the pages and get crawled too.
    page = facilitator.get(f"/facilitator/cohorts/{cohort_id}")
    facilitator.post(f"/facilitator/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(page)})
    ana = learners["ana"]
    ana.post(f"/learner/cohorts/{cohort_id}/feed", data={"csrf_token": csrf_token_in(ana.get("/learner/"))})
    lnd = https_client(app)
    Launcher(lnd, platform)(role="lnd", sub="lee", name="Lee", email="lee@example.com")
    # A late joiner changes the lab events' attendees: the change is pending until an action records it.
    Launcher(https_client(app), platform)(role="learner", sub="eve", name="Eve", email="eve@example.com",
                                          custom={"cohort": "lab"})

    with app.app_context():
        visited = {}
        for client, start in ((facilitator, "/facilitator/"), (facilitator, f"/facilitator/cohorts/{cohort_id}"),
                              (ana, "/learner/"), (lnd, "/insights/")):
            for path, writes in crawl(client, start).items():
                visited.setdefault(path, []).extend(writes)
    assert any("/calendar/" in p for p in visited) and any(p.endswith(".ics") for p in visited)
    assert len(visited) >= 15, sorted(visited)
    offenders = {path: w for path, w in visited.items() if w}
    assert not offenders, offenders
