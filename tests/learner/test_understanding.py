"""Learners understand the idea and their data: 'How the lab works', 'Your data', plain labels and wording."""
from __future__ import annotations

import re
from pathlib import Path

from lti_tool.learner.wording import reasons_for_reader
from tests.conftest import csrf_token_in
from tests.learner.conftest import fill
from tests.learner.test_home_and_services import publish




def test_how_it_works_explains_the_idea_gender_and_who_sees_what(people, client):
    html = client.get("/learner/how-it-works").get_data(as_text=True)
    assert "Both of you teach, both of you learn" in html
    assert "Why we ask about gender" in html and "Prefer not to say" in html
    assert "pairs people across genders" in html
    assert "Who sees what" in html and 'href="/learner/my-data"' in html


def test_home_and_intake_link_to_how_it_works_and_your_data(people, client):
    for url in ("/learner/", f"/learner/cohorts/{people}/intake"):
        html = client.get(url).get_data(as_text=True)
        assert 'href="/learner/how-it-works">How the lab works</a>' in html, url
        assert 'href="/learner/my-data">Your data and privacy</a>' in html, url


def test_your_data_says_who_sees_each_item_and_how_long(people, client):
    html = client.get("/learner/my-data").get_data(as_text=True)
    assert "Your privacy in plain words" in html
    table = html[html.index('<table class="privacy">'):html.index("</table>")]
    for header in ("What", "Who sees it", "How long it is kept"):
        assert f'<th scope="col">{header}</th>' in table
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>\s*<td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>', table, re.S)
    what = {re.sub(r"\s*\(.*", "", re.sub(r"<.*?>", "", w)).strip(): (who, kept) for w, who, kept in rows}
    assert "Gender identity" in what and "Skills I offer" in what and "Reflection answers" in what
    assert "other participants only if you choose to show it" in what["Gender identity"][0]
    assert "never see them" in what["Reflection answers"][0]
    assert all("18 months after your cohort ends" in kept for _who, kept in what.values())
    assert "optional; used only to form cross-gender pairs" in table


def test_leave_and_delete_are_danger_actions_on_your_data_only(people, client, app):
    html = client.get("/learner/my-data").get_data(as_text=True)
    assert f'class="button danger" href="/learner/cohorts/{people}/withdraw"' in html
    assert 'class="button danger" href="/learner/my-data/delete"' in html
    assert 'href="/learner/my-data.json" download>Download your data as a file (JSON)' in html
    reflections = client.get(f"/learner/cohorts/{people}/reflections").get_data(as_text=True)
    assert "/learner/my-data/delete" not in reflections and 'href="/learner/my-data"' in reflections
    # the confirmations stay, with the same danger style
    assert 'class="button danger"' in client.get("/learner/my-data/delete").get_data(as_text=True)
    withdraw = client.get(f"/learner/cohorts/{people}/withdraw")
    assert 'class="button danger"' in withdraw.get_data(as_text=True)
    client.post(f"/learner/cohorts/{people}/withdraw", data={"csrf_token": csrf_token_in(withdraw)})
    html = client.get("/learner/my-data").get_data(as_text=True)
    assert f"/learner/cohorts/{people}/withdraw" not in html  # nothing left to leave
    assert 'class="button danger" href="/learner/my-data/delete"' in html


def test_danger_style_is_distinct_and_readable():
    css = (Path(__file__).parents[2] / "lti_tool" / "static" / "app.css").read_text()
    rule = re.search(r"\.button\.danger[^{]*\{([^}]*)\}", css).group(1)
    colours = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-f]{6})", css))
    background = re.search(r"background:\s*var\((--[\w-]+)\)", rule).group(1)
    assert "color: #fff" in rule and colours[background] != colours["--accent"]

    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    assert (1.05) / (luminance(colours[background]) + 0.05) >= 4.5  # WCAG AA for white text


def test_read_only_intake_shows_labels_not_codes(people, client, app):
    ana = fill(app, "ana", level=3, availability=["thu-10", "tue-14"], visible_fields=["department", "offers", "gender"])
    publish(app, people, [([ana, fill(app, "ben")], [], 1)])  # read only once she is in a team
    html = client.get(f"/learner/cohorts/{people}/intake").get_data(as_text=True)
    summary = html[html.index('<dl class="summary">'):html.index("</dl>")]
    assert "<dd>Woman</dd>" in summary and "<dd>3 – Team lead or senior specialist</dd>" in summary
    assert "<dd>Tuesday 14:00, Thursday 10:00</dd>" in summary
    assert "<dd>Your name, Gender identity, Department, Skills I offer</dd>" in summary
    for code in (">woman<", ">3<", "tue-14", "thu-10", "offers,"):
        assert code not in summary


def test_why_you_were_matched_speaks_to_the_reader(people, client, app):
    ana, ben = fill(app, "ana"), fill(app, "ben")
    publish(app, people, [([ana, ben], ["Ana Costa offers Negotiation, which Ben Okafor wants to learn",
                                        "Ben Okafor offers Data analysis, which Ana Costa wants to learn",
                                        "Ana Costa asked to work with Ben Okafor", "a cross-gender team",
                                        "1 hours apart in time zones", "something the matcher says one day"], 1)])
    html = client.get("/learner/").get_data(as_text=True)
    assert "<li>You offer Negotiation, which Ben Okafor wants to learn</li>" in html
    assert "<li>Ben Okafor offers Data analysis, which you want to learn</li>" in html
    assert "<li>You asked to work with Ben Okafor</li>" in html and "<li>a cross-gender team</li>" in html
    assert "<li>1 hour apart in time zones</li>" in html
    assert "<li>something the matcher says one day</li>" in html
    assert "Ana Costa offers" not in html and "which Ana Costa wants" not in html


def test_reasons_rewritten_only_for_known_shapes(app):
    with app.test_request_context():
        assert reasons_for_reader([
            "Ben Okafor and Ana Costa both asked to work together", "Ben Okafor asked to work with Ana Costa",
            "Ana Costa gains nothing in skills from this team", "Ben Okafor gains nothing in skills from this team",
            "Chloé Martin offers Writing, which Ben Okafor wants to learn", "3 hours apart in time zones",
            "5.5 hours apart in time zones"], "Ana Costa") == [
            "You and Ben Okafor both asked to work together", "Ben Okafor asked to work with you",
            "You gain nothing in skills from this team", "Ben Okafor gains nothing in skills from this team",
            "Chloé Martin offers Writing, which Ben Okafor wants to learn", "3 hours apart in time zones",
            "5.5 hours apart in time zones"]
        # a name with regex characters is matched literally; no name: nothing about people is rewritten
        assert reasons_for_reader(["A. (Al) Li offers X, which B wants to learn"], "A. (Al) Li") == [
            "You offer X, which B wants to learn"]
        assert reasons_for_reader(["Ana offers X, which Ben wants to learn"], None) == [
            "Ana offers X, which Ben wants to learn"]
