"""The cohort page is a path: steps with their status, counts without removed people, published teams
with search and a CSV export, the outbox as a summary (failures first, the rows on their own page)."""
from __future__ import annotations

import csv
import io
import re

from lti_tool.extensions import db
from lti_tool.models import OutboxMessage
from tests.conftest import csrf_token_in, https_client
from tests.facilitator.test_dropouts import ids_by_sub
from tests.facilitator.test_matching_flow import enrol_with_intake
from tests.lti_platform import Launcher


def _facilitator(app, platform, lti):
    cid, learners = enrol_with_intake(app, platform)
    Launcher(https_client(app), platform)(role="learner", sub="eve", name="Eve", email="eve@example.com",
                                          custom={"cohort": "lab"})  # enrolled, no intake yet
    lti(role="instructor", sub="teacher", name="Tess", email="tess@example.com")
    return cid, learners


def _publish(client, cid):
    page = client.get(f"/facilitator/cohorts/{cid}")
    run = client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    review = client.get(run.headers["Location"])
    assert client.post(run.headers["Location"] + "/publish",
                       data={"csrf_token": csrf_token_in(review)}).status_code == 303


def _current_step(html: str) -> str:
    return re.search(r'aria-current="step"[^>]*>\s*<a [^>]*>([^<]+)</a>', html).group(1).strip()


def test_participant_counts_leave_out_removed_people(app, platform, lti, client):
    cid, _learners = _facilitator(app, platform, lti)
    ben = ids_by_sub(app)["ben"]
    confirm = client.get(f"/facilitator/cohorts/{cid}/participants/{ben}/remove")
    client.post(f"/facilitator/cohorts/{cid}/participants/{ben}/remove", data={"csrf_token": csrf_token_in(confirm)})
    html = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    assert re.search(r"<dt>Participants</dt><dd>4 / 24", html), html[:3000]
    assert "3 of 4 intakes done" in html and "1 removed or withdrawn" in html
    home = client.get("/facilitator/").get_data(as_text=True)
    assert re.search(r"<td>4</td>", home) and "<td>5</td>" not in home


def test_steps_show_where_the_cohort_is(app, platform, lti, client):
    cid, _learners = _facilitator(app, platform, lti)
    html = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    for title in ("Roster", "Matching", "Published", "Lab days", "Follow-up"):
        assert 'href="#step-' in html and f">{title}</a>" in html
    assert _current_step(html) == "Roster" and "No proposal yet" in html
    page = client.get(f"/facilitator/cohorts/{cid}")
    client.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    html = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    assert _current_step(html) == "Matching" and "Proposal 1 ready" in html
    assert "Matching" in client.get("/facilitator/").get_data(as_text=True).split("<tbody>")[1]
    _publish(client, cid)
    html = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    assert _current_step(html) == "Published" and re.search(r"Published \d+ \w+ · 2 teams", html)
    home = client.get("/facilitator/").get_data(as_text=True).split("<tbody>")[1]
    assert "Step 3 of 5: Published" in home


def test_published_teams_have_search_and_a_streamed_csv(app, platform, lti, client):
    cid, _learners = _facilitator(app, platform, lti)
    _publish(client, cid)
    html = client.get(f"/facilitator/cohorts/{cid}/teams").get_data(as_text=True)
    assert 'type="search"' in html and "Ana" in html and "Cleo" in html
    found = client.get(f"/facilitator/cohorts/{cid}/teams?q=ana").get_data(as_text=True)
    assert "Ana" in found and "Ben" in found and "Cleo" not in found and "1 of 2 teams" in found
    export = client.get(f"/facilitator/cohorts/{cid}/teams.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.is_streamed and "Content-Length" not in export.headers
    assert export.headers["Content-Disposition"] == "attachment; filename=lab-teams.csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Team", "Pod", "Name", "Email", "Department", "Location", "Partner(s)", "Match quality",
                       "Weekly follow-up time"]
    assert sorted(r[2] for r in rows[1:]) == ["Ana", "Ben", "Cleo", "Dan"]
    ana = next(r for r in rows[1:] if r[2] == "Ana")
    assert ana[3] == "ana@example.com" and ana[6] == "Ben" and ana[7] in ("strong", "good", "weak")


def test_outbox_is_a_summary_with_failures_first_and_rows_on_demand(app, platform, lti, client):
    cid, _learners = _facilitator(app, platform, lti)
    with app.app_context():
        for n in range(3):
            db.session.add(OutboxMessage(cohort_id=cid, recipient=f"ok{n}@example.com", subject="Hello", body="x",
                                         status="written"))
        db.session.add(OutboxMessage(cohort_id=cid, recipient="gone@example.com", subject="Your partner", body="x",
                                     status="failed", last_error="550 mailbox unavailable", attempts=2))
        db.session.commit()
    html = client.get(f"/facilitator/cohorts/{cid}").get_data(as_text=True)
    messages = html.split('id="messages-h"')[1]
    assert messages.index("1 failed") < messages.index("3 saved as file")
    assert "gone@example.com" in messages and "550 mailbox unavailable" in messages
    assert "ok0@example.com" not in html  # no row per message on the cohort page
    assert f'/facilitator/cohorts/{cid}/messages' in messages
    every = client.get(f"/facilitator/cohorts/{cid}/messages").get_data(as_text=True)
    assert all(f"ok{n}@example.com" in every for n in range(3)) and "gone@example.com" in every
    failed = client.get(f"/facilitator/cohorts/{cid}/messages?status=failed").get_data(as_text=True)
    assert "gone@example.com" in failed and "ok0@example.com" not in failed
