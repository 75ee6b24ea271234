"""The learner's export is for a person: a page and a JSON file with labelled sections, only their own data."""
from __future__ import annotations

import json

from werkzeug.http import parse_options_header

from .helpers import ZOE, ZOE_TEXT, seed_lab

SECTIONS = ["Profile", "Cohorts and intake", "Partner requests", "Teams", "Attendance", "Reflections", "Calendar",
            "Messages sent to you"]


def test_json_export_has_labelled_sections_in_words(app, platform):
    lab = seed_lab(app, platform)
    response = lab.clients["zoe"].get("/learner/my-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    disposition, options = parse_options_header(response.headers["Content-Disposition"])
    assert (disposition, options["filename"]) == ("attachment", "my-mentoring-lab-data.json")
    data = json.loads(response.get_data(as_text=True))
    assert [s for s in SECTIONS if s not in data] == []
    profile = data["Profile"]
    assert profile["Name from your learning platform"] == ZOE["name"]
    assert profile["Your id in your learning platform"] == ZOE["sub"]
    assert [c["Your roles"] for c in profile["Courses and your roles"]] == [["Learner"]]
    (intake,) = data["Cohorts and intake"]
    # values as a person reads them, not internal codes
    assert intake["Gender identity"] == "Woman" and intake["Level"].startswith("3 – ")
    assert intake["Times you are free"] == ["Tuesday 10:00"]
    assert intake["Goals"] == ZOE_TEXT["goals"] and intake["Department"] == ZOE_TEXT["department"]
    assert intake["Status"] == "Taking part" and intake["Agreed to take part"] == "yes"
    (request,) = data["Partner requests"]
    assert (request["Person"], request["Your choice"]) == ("Ben Okafor", "You asked to be paired")
    (team,) = data["Teams"]
    assert team["Status"] == "Active" and len(team["Partners"]) == 1 and team["Why you were teamed"]
    (attended,) = data["Attendance"]
    assert attended["Present"] == "yes" and attended["Session"] != "d1-knowledge-map"  # the session's title
    (reflection,) = data["Reflections"]
    assert reflection["Status"] == "Submitted"
    answers = {a["Question"]: a for a in reflection["Answers"]}
    assert any(a["Your answer"] == ZOE_TEXT["reflection"] and a["Who may read it"] == "your partner and the facilitator"
               for a in answers.values())
    assert all("_" not in q for q in answers)  # the questions as asked, not prompt ids
    (feed,) = data["Calendar"]
    assert feed["Private calendar address"].endswith(".ics") and feed["Status"] == "in use"
    subjects = {m["Subject"] for m in data["Messages sent to you"]}
    assert "Your reciprocal mentoring partner" in subjects
    assert all(m["To"] == ZOE["email"] for m in data["Messages sent to you"])


def test_export_holds_nobody_else_s_data(app, platform):
    lab = seed_lab(app, platform)
    text = lab.clients["zoe"].get("/learner/my-data.json").get_data(as_text=True)
    # Ben wrote about Zoe; Cleo declined her; their emails and words are theirs, not in her export.
    for other in ("showed me how to negotiate", "ben@example.com", "cleo@example.com", "dan@example.com",
                  "You asked not to be paired", "Dan Raman"):
        assert other not in text, other
    ben = lab.clients["ben"].get("/learner/my-data.json").get_data(as_text=True)
    assert ZOE_TEXT["reflection"] not in ben and ZOE_TEXT["goals"] not in ben and ZOE["email"] not in ben
    assert "showed me how to negotiate" in ben


def test_page_shows_the_same_sections_with_headings(app, platform):
    lab = seed_lab(app, platform)
    page = lab.clients["zoe"].get("/learner/my-data")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for section in SECTIONS:
        assert f'">{section}</h2>' in html, section
    assert "<dt>Goals</dt><dd>" + ZOE_TEXT["goals"] in html
    assert 'href="/learner/my-data.json"' in html and 'href="/learner/my-data/delete"' in html
    assert "showed me how to negotiate" not in html
    assert lab.facilitator.client.get("/learner/my-data").status_code == 403  # a learner's page only
