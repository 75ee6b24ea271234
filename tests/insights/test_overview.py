"""The overview's "is it working?" figures under the small-group rule (MIN_GROUP_SIZE = 5): the funnel,
score bands joined rather than hidden, human labels and one note column in the CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

from tests.insights.helpers import HIDDEN, add_cohort, csv_table, person
from tests.reflections.helpers import launch

MARCH = datetime(2026, 3, 10)
REFLECTED = "Wrote at least one reflection"


def _lnd(lti):
    launch(lti, "lnd", role="lnd", cohort=None)


def _funnel(client) -> dict:
    return {label: row["People"] for label, row in csv_table(client, "funnel").items()}


def test_the_funnel_counts_people_at_each_stage(app, client, lti):
    _lnd(lti)
    people = [person(ratings=[(4, 4, MARCH)]) for _ in range(6)] + [person() for _ in range(5)]
    add_cohort(app, "Spring", date(2026, 3, 2), people, teams=[(i, i + 1, 0.9) for i in range(0, 10, 2)])
    funnel = _funnel(client)
    assert funnel["Enrolled"] == 11.0 and funnel["Intake completed"] == 11.0
    assert funnel["Matched with a partner"] == HIDDEN  # five pairs leave one person out: not shown
    assert funnel[REFLECTED] == 6.0


def test_a_stage_that_would_leave_fewer_than_five_out_is_hidden(app, client, lti):
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), [person(ratings=[(4, 4, MARCH)]) for _ in range(5)]
               + [person() for _ in range(4)])
    assert _funnel(client)[REFLECTED] == HIDDEN  # the four who did not reflect


def test_a_stage_with_five_on_each_side_is_shown(app, client, lti):
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), [person(ratings=[(4, 4, MARCH)]) for _ in range(5)]
               + [person() for _ in range(5)])
    assert _funnel(client)[REFLECTED] == 5.0


def test_follow_ups_held_counts_the_teams_that_said_they_met(app, client, lti):
    from tests.insights.test_follow_ups_held import _check_ins

    _lnd(lti)
    held, _ = add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(10)],
                         teams=[(i, i + 1, 0.9) for i in range(0, 10, 2)])
    lapsed, _ = add_cohort(app, "Summer", date(2026, 3, 9), [person() for _ in range(10)],
                           teams=[(i, i + 1, 0.9) for i in range(0, 10, 2)])
    _check_ins(app, held, ["yes"])
    _check_ins(app, lapsed, ["no"])
    assert _funnel(client)["Held at least one follow-up meeting"] == 10.0


def test_a_small_score_band_is_joined_with_its_neighbour_not_hidden(app, client, lti):
    _lnd(lti)
    # two teams (4 people) at 0.7 and three teams (6 people) at 0.9
    add_cohort(app, "Spring", date(2026, 3, 2), [person() for _ in range(10)],
               teams=[(0, 1, 0.7), (2, 3, 0.7), (4, 5, 0.9), (6, 7, 0.9), (8, 9, 0.9)])
    bands = {label: row["Teams"] for label, row in csv_table(client, "match_scores").items()}
    assert bands == {"0.0–0.2": 0.0, "0.2–0.4": 0.0, "0.4–0.6": 0.0, "0.6–1.0": 5.0}


def test_csv_has_one_header_human_labels_and_the_note_in_its_own_column(app, client, lti):
    _lnd(lti)
    add_cohort(app, "Spring", date(2026, 3, 2), [person(gender="woman") for _ in range(5)]
               + [person(gender="man") for _ in range(5)])
    response = client.get("/insights/export/by_gender.csv")
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "Group" and rows[0][-1] == "Note"
    assert sum(1 for r in rows if r[0] == "Group") == 1
    assert {r[0] for r in rows[1:]} == {"Man", "Woman"}
    assert "An empty cell: no one answered" in rows[1][-1] and all(r[-1] == "" for r in rows[2:])
    assert all(len(r) == len(rows[0]) for r in rows)
