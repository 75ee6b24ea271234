"""No L&D figure reveals a person: respondents are counted, hidden cells cannot be worked out.

Each attack test plays the attacker: it reads what an L&D user is shown (page tables, CSV downloads),
tries to compute a hidden person's rating by subtraction, and asserts that the figures it needs are
not all readable. The seeded data makes the subtraction exact when they are (the attacker is assumed
to know how many answers each group holds, the worst case).
"""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from tests.insights.helpers import HIDDEN, add_cohort, add_people, csv_table, page_tables, person, shown
from tests.reflections.helpers import cohort_id, lab_held, launch, reflect

OWN, PARTNER, PEOPLE = "Own gain reported (mean 1-5)", "Gain seen in partner (mean 1-5)", "People"
MARCH, APRIL, MAY = datetime(2026, 3, 10, 12), datetime(2026, 4, 10, 12), datetime(2026, 5, 12, 12)


def _lnd(lti):
    launch(lti, "lnd-1", role="lnd", cohort=None)


def _page(client, query=""):
    response = client.get("/insights/" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _overview(client, query=""):
    return {k: v["Value"] for k, v in csv_table(client, "overview", query).items()}


def _rated(n, gain, when=MARCH, **kw):
    return [person(ratings=[(gain, gain, when)], **kw) for _ in range(n)]


def test_one_learners_ratings_appear_nowhere(app, client, lti):
    """The reported case: one learner submits one reflection in a cohort of six, through the real form."""
    launch(lti, "ana")
    cid = cohort_id(app)
    add_people(app, cid, [person(gender="woman"), person(gender="man")] * 2 + [person(gender="woman")])
    lab_held(app)
    assert reflect(client, cid, learned_from_partner="x", gain_self="5", gain_partner="2").status_code in (200, 302, 303)
    _lnd(lti)
    html = _page(client)
    tables = page_tables(html)
    for key in ("overview", "by_cohort", "by_department", "by_gender", "trend"):
        for label, row in tables[key].items():
            for column, value in row.items():
                if "gain" in column.lower() or key == "overview" and "gain" in label.lower():
                    assert not isinstance(value, float), (key, label, column, value)
    for chart in ("gain-chart", "trend-chart"):
        svg = html.split(f'aria-labelledby="{chart}-title"')[1].split("</svg>")[0]
        values = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        assert "5.0" not in values and "2.0" not in values and "5" not in values, values
    for key in ("overview", "by_cohort", "by_department", "by_gender", "trend"):
        for label, row in csv_table(client, key).items():
            for column, value in row.items():
                if "gain" in column.lower() or key == "overview" and "gain" in label.lower():
                    assert not isinstance(value, float), (key, label, column, value)
    assert _overview(client)[PEOPLE] == 6.0  # people measures of six people stay visible


def test_a_person_with_many_reflections_is_one_respondent(app, client, lti):
    _lnd(lti)
    when = [MARCH] * 4
    add_cohort(app, "Spring", date(2026, 3, 2),
               [person(ratings=[(4, 4, w) for w in when]) for _ in range(4)] + [person() for _ in range(4)])
    overview = _overview(client)
    assert overview[PEOPLE] == 8.0
    assert overview[OWN] == HIDDEN and overview[PARTNER] == HIDDEN  # 16 ratings, four people


def test_anonymous_ratings_count_as_one_respondent_at_most(app, client, lti):
    from lti_tool.extensions import db
    from lti_tool.models import AnonymousRating

    _lnd(lti)
    cid, _ = add_cohort(app, "Spring", date(2026, 3, 2), _rated(3, 4) + [person() for _ in range(3)])
    with app.app_context():
        for k in range(10):  # one deleted person can leave a row per reflection (one without a date)
            db.session.add(AnonymousRating(cohort_id=cid, session_id=f"s{k}", gain_self=1, gain_partner=1,
                                           submitted_on=date(2026, 3, 10) if k else None))
        db.session.commit()
    assert _overview(client)[OWN] == HIDDEN  # 3 people + anonymous rows: 4 respondents at most
    add_people(app, cid, _rated(1, 4))
    assert _overview(client)[OWN] == pytest.approx((4 * 4 + 10) / 14, abs=0.01)  # 4 people + anonymous: 5


def _department_case(app):
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(6, 4, dept="Finance") + _rated(2, 1, dept="Legal"))
    return "by_department", "Finance", 6, 2


def _gender_case(app):
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(6, 4, gender="woman") + _rated(2, 1, gender="non-binary"))
    return "by_gender", "woman", 6, 2


def _cohort_case(app):
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(6, 4))
    add_cohort(app, "Summer", date(2026, 6, 1), _rated(2, 1))
    return "by_cohort", "Spring", 6, 2


@pytest.mark.parametrize("case", [_department_case, _gender_case, _cohort_case])
def test_a_hidden_group_cannot_be_subtracted_from_the_total(app, client, lti, case):
    """Total minus the shown groups must not give the hidden group's mean rating, nor its head count."""
    _lnd(lti)
    key, big, n_big, n_small = case(app)
    for read in (lambda k: csv_table(client, k), lambda k: page_tables(_page(client))[k]):
        total = {label: row["Value"] for label, row in read("overview").items()}
        rows = read(key)
        shown_rows = [label for label in rows if shown(rows[label][OWN])]
        if shown(total[OWN]) and shown_rows == [big]:
            hidden = ((n_big + n_small) * total[OWN] - n_big * rows[big][OWN]) / n_small
            pytest.fail(f"the hidden group's own gain is {hidden:.2f} (total minus {big})")
        if shown(total[PEOPLE]):
            counts = [row[PEOPLE] for row in rows.values() if shown(row[PEOPLE])]
            rest = total[PEOPLE] - sum(counts)
            assert rest == 0 or rest >= 5, f"{rest} people left over after the shown groups"


def test_a_late_month_cannot_be_subtracted_from_the_total(app, client, lti):
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(6, 4, when=MARCH) + _rated(2, 1, when=APRIL))
    total = _overview(client)
    trend = csv_table(client, "trend")
    if shown(total[OWN], trend["2026-03"]["Own gain (mean)"]):
        hidden = (8 * total[OWN] - 6 * trend["2026-03"]["Own gain (mean)"]) / 2
        pytest.fail(f"April's own gain is {hidden:.2f} (total minus March)")


def test_a_small_score_band_cannot_be_subtracted_from_the_team_count(app, client, lti):
    _lnd(lti)
    teams = [(0, 1, 0.7), (2, 3, 0.7), (4, 5, 0.7), (6, 7, 0.7), (8, 9, 0.1)]
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(10, 4), teams=teams)
    bands = csv_table(client, "match_scores")
    quality = csv_table(client, "match_quality")
    shown_bands = [row["Teams"] for row in bands.values() if shown(row["Teams"])]
    if shown(quality["Teams"]["Value"]):
        rest = quality["Teams"]["Value"] - sum(shown_bands)
        assert rest == 0 or rest >= 2, f"{rest} team(s) in the hidden band"
    # the one team at 0.1 is too few people alone: its band is joined with the bands up to the next teams
    assert {label: row["Teams"] for label, row in bands.items()} == {"0.0–0.8": 5.0, "0.8–1.0": 0.0}


def test_department_filter_against_all_departments(app, client, lti):
    """Overall mean with all departments minus the mean with one department = everyone else."""
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(6, 4, dept="Finance") + _rated(1, 1, dept="Sales"))
    everyone = page_tables(_page(client))["overview"][OWN]["Value"]
    html = _page(client, "department=Finance")
    applied = re.search(r"<option selected>Finance</option>", html) is not None
    finance = page_tables(html)["overview"][OWN]["Value"] if applied else None
    if shown(everyone, finance):
        pytest.fail(f"the Sales person's own gain is {7 * everyone - 6 * finance:.2f} (all minus Finance)")


def test_department_filter_against_all_in_a_breakdown(app, client, lti):
    """Men across all departments minus men in Finance = the one man in Legal."""
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2),
               _rated(5, 4, dept="Finance", gender="woman") + _rated(5, 4, dept="Finance", gender="man")
               + _rated(5, 4, dept="Legal", gender="woman") + _rated(1, 1, dept="Legal", gender="man"))
    everyone = page_tables(_page(client))["by_gender"]
    html = _page(client, "department=Finance")
    assert re.search(r"<option selected>Finance</option>", html), "Finance (10 people) is offered"
    finance = page_tables(html)["by_gender"]
    men_all, men_finance = everyone.get("man", {}).get(OWN), finance.get("man", {}).get(OWN)
    if shown(men_all, men_finance):
        pytest.fail(f"the Legal man's own gain is {6 * men_all - 5 * men_finance:.2f}")
    # ... and the department filter still gives its own figures where they are safe
    assert page_tables(html)["overview"][PEOPLE]["Value"] == 10.0


def _three_cohorts(app):
    add_cohort(app, "Cohort A", date(2026, 3, 2), _rated(6, 4, when=MARCH))
    add_cohort(app, "Cohort B", date(2026, 4, 1), _rated(6, 4, when=APRIL))
    add_cohort(app, "Cohort C", date(2026, 5, 4), _rated(1, 1, when=MAY) + [person() for _ in range(5)])


@pytest.mark.parametrize("narrow,wide", [
    ("from=2026-03-01&to=2026-05-03", "from=2026-03-01&to=2026-05-04"),  # one more day
    ("cohort={a}&cohort={b}", "cohort={a}&cohort={b}&cohort={c}"),  # one more cohort
])
def test_two_selections_that_differ_by_one_cohort(app, client, lti, narrow, wide):
    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    _lnd(lti)
    _three_cohorts(app)
    with app.app_context():
        a, b, c = db.session.execute(db.select(Cohort.id).order_by(Cohort.day_one)).scalars().all()
    narrow, wide = narrow.format(a=a, b=b, c=c), wide.format(a=a, b=b, c=c)
    small, big = _overview(client, narrow), _overview(client, wide)
    assert small[PEOPLE] == 12.0 and big[PEOPLE] == 18.0  # the filters did select 2 and 3 cohorts
    if shown(small[OWN], big[OWN]):
        pytest.fail(f"cohort C's one rater gave {13 * big[OWN] - 12 * small[OWN]:.2f}")
    # the page and its CSV agree
    for query in (narrow, wide):
        assert page_tables(_page(client, query))["overview"][OWN]["Value"] == _overview(client, query)[OWN]


def test_trend_for_a_date_range_against_all(app, client, lti):
    """April across all cohorts minus April for the cohorts of a date range = one late reflection."""
    _lnd(lti)
    add_cohort(app, "Cohort A", date(2026, 3, 2), _rated(5, 4, when=MARCH) + _rated(1, 1, when=APRIL))
    add_cohort(app, "Cohort B", date(2026, 4, 1), _rated(6, 4, when=APRIL))
    everyone = csv_table(client, "trend")["2026-04"]
    ranged = csv_table(client, "trend", "from=2026-03-15").get("2026-04", {})
    assert csv_table(client, "by_cohort", "from=2026-03-15").keys() == {"Cohort B"}
    column = "Own gain (mean)"
    if shown(everyone.get(column), ranged.get(column)):
        pytest.fail(f"the late reflection's own gain is {7 * everyone[column] - 6 * ranged[column]:.2f}")
    if shown(everyone.get("Reflections submitted"), ranged.get("Reflections submitted")):
        late = everyone["Reflections submitted"] - ranged["Reflections submitted"]
        assert late == 0 or late >= 5, f"{late} reflection(s) from cohort A in April"


def test_one_marker_for_hidden_cells_in_page_and_csv(app, client, lti):
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), _rated(2, 4) + [person() for _ in range(4)])
    html = _page(client)
    overview = page_tables(html)["overview"]
    assert overview[OWN]["Value"] == HIDDEN
    assert '<span class="suppressed">not shown</span>' in html
    raw = client.get("/insights/export/overview.csv").get_data().decode("utf-8-sig")
    lines = raw.splitlines()
    assert lines[0].startswith("Measure,Value")  # one header row
    assert sum(1 for line in lines if line.startswith("Measure")) == 1
    assert "Own gain reported (mean 1-5),not shown" in raw and "suppressed" not in raw


def test_only_me_ratings_are_described_as_they_are_used(app, client, lti):
    """Ratings marked "Only me" do count in anonymous averages, and the form says so next to them."""
    for i in range(5):
        launch(lti, f"learner-{i}")
        cid = cohort_id(app)
        lab_held(app)
        form = client.get(f"/learner/cohorts/{cid}/reflections/d1-morning").get_data(as_text=True)
        reflect(client, cid, learned_from_partner="x", gain_self="4", gain_partner="4",
                vis_gain_self="me", vis_gain_partner="me")
    rating_label = form.split('for="v-gain_self-me"')[1].split("</label>")[0]
    text_label = form.split('for="v-learned_from_partner-me"')[1].split("</label>")[0]
    assert "Only me" in rating_label and "anonymous" in rating_label and "5" in rating_label
    assert "anonymous" not in text_label
    _lnd(lti)
    assert page_tables(_page(client))["overview"][OWN]["Value"] == 4.0  # ... exactly as the form says


def _nothing_hidden(tables: dict, keys) -> None:
    for key in keys:
        assert tables[key], key
        for label, row in tables[key].items():
            assert HIDDEN not in row.values(), (key, label, row)


def test_only_what_the_rule_requires_is_hidden(app, client, lti):
    """Groups of five or more respondents everywhere: every figure shows, with and without filters."""
    _lnd(lti)
    def mixed(gain, when):  # five of each department and gender
        return [person(dept=d, gender=g, ratings=[(gain, gain - 1, when)]) for d in ("Finance", "Legal")
                for g in ("woman", "man") for _ in range(5)]

    spring, summer = mixed(4, MARCH), mixed(5, APRIL)
    a, _ = add_cohort(app, "Spring", date(2026, 3, 2), spring, teams=[(i, i + 1, 0.7) for i in range(0, 20, 2)])
    add_cohort(app, "Summer", date(2026, 4, 1), summer, teams=[(i, i + 1, 0.3) for i in range(0, 20, 2)])
    everything = ("overview", "by_cohort", "by_department", "by_gender", "trend", "match_scores", "match_quality")
    tables = page_tables(_page(client))
    _nothing_hidden(tables, everything)
    assert tables["by_cohort"]["Spring"][OWN] == 4.0 and tables["by_cohort"]["Summer"][OWN] == 5.0
    assert tables["trend"]["2026-04"]["Reflections submitted"] == 20.0
    one = page_tables(_page(client, f"cohort={a}"))
    _nothing_hidden(one, everything)
    assert one["overview"][PEOPLE]["Value"] == 20.0 and one["by_gender"]["Woman"][PEOPLE] == 10.0
    assert set(one["trend"]) == {"2026-03"}
    html = _page(client, "department=Legal")
    assert re.search(r"<option selected>Legal</option>", html)
    legal = page_tables(html)
    _nothing_hidden(legal, ("overview", "by_cohort", "by_department"))
    assert legal["overview"][PEOPLE]["Value"] == 20.0 and legal["by_cohort"]["Summer"][PEOPLE] == 10.0
    assert "Not shown with a department filter" in html  # gender, trend and teams need all departments
