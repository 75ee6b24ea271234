"""Learners understand the idea and their data: 'How the lab works', 'Your data', plain labels and wording."""
from __future__ import annotations

import re




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
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>\s*<td>(.*?)</td><td>(.*?)</td></tr>', table, re.S)
    what = {re.sub(r"\s*\(.*", "", re.sub(r"<.*?>", "", w)).strip(): (who, kept) for w, who, kept in rows}
    assert "Gender identity" in what and "Skills I offer" in what and "Reflection answers" in what
    assert "other participants only if you choose to show it" in what["Gender identity"][0]
    assert "never see them" in what["Reflection answers"][0]
    assert all("18 months after your cohort ends" in kept for _who, kept in what.values())
    assert "optional; used only to form cross-gender pairs" in table
