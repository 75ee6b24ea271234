"""The intake in short steps: required fields marked before submitting, a curated time-zone list, skills
ranked explicitly (numeric ranks without script), availability as a week grid with large targets."""
from __future__ import annotations

import re

from lti_tool.learner.forms import COMMON_TIMEZONES, TIMEZONES
from lti_tool.services import intake
from tests.conftest import csrf_token_in
from tests.learner.conftest import fill, participant_of
from tests.learner.test_intake import form_data


def intake_html(client, cohort):
    return client.get(f"/learner/cohorts/{cohort}/intake").get_data(as_text=True)


def test_intake_is_grouped_in_short_steps(people, client):
    html = intake_html(client, people)
    headings = re.findall(r'<h2 id="step-[a-z]+-heading"[^>]*>(.*?)</h2>', html)
    assert headings == ["About you", "What you offer", "What you want to learn", "When you are free", "Review and submit"]


def test_required_fields_are_marked_before_submitting(people, client):
    html = intake_html(client, people)
    assert set(intake.REQUIRED) == set(intake.missing_for_submit({}))
    for name in ("department", "location", "consent"):
        assert re.search(rf'<input[^>]*aria-required="true"[^>]*id="{name}"|<input[^>]*id="{name}"[^>]*aria-required="true"', html), name
    for name in ("gender", "level"):
        assert f'id="{name}" role="radiogroup" aria-required="true"' in html, name
    assert html.count('<span class="required">(required)</span>') >= 5
    assert html.count('<span class="required">(required: at least one)</span>') == 3  # offers, wants, hours


def test_time_zones_are_curated_with_common_ones_first(people, client):
    assert "Factory" not in TIMEZONES and "localtime" not in TIMEZONES and "Etc/GMT+5" not in TIMEZONES
    assert "US/Eastern" not in TIMEZONES and "Europe/Berlin" in TIMEZONES and "UTC" in TIMEZONES
    html = intake_html(client, people)
    assert re.search(r'<input [^>]*autocomplete="off" [^>]*id="timezone" list="timezone-list"', html)
    options = re.findall(r'<option value="([^"]+)">', html.split('<datalist id="timezone-list">')[1].split("</datalist>")[0])
    assert options[:len(COMMON_TIMEZONES)] == COMMON_TIMEZONES and len(options) == len(set(options))
    assert "Factory" not in options


def test_time_zone_typed_in_any_case_is_stored_as_its_name(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    client.post(f"/learner/cohorts/{people}/intake", data=form_data(token, timezone="europe/berlin ",
                                                                    save_draft="Save draft"))
    assert participant_of(app, "ana").timezone == "Europe/Berlin"


def test_junk_time_zone_is_refused(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    r = client.post(f"/learner/cohorts/{people}/intake", data=form_data(token, timezone="Factory",
                                                                        save_draft="Save draft"))
    assert r.status_code == 422 and "Choose a time zone from the list" in r.get_data(as_text=True)
    assert participant_of(app, "ana").intake_updated_at is None


def test_numeric_ranks_set_skill_priority_without_script(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    client.post(f"/learner/cohorts/{people}/intake", data=form_data(
        token, offers=["Negotiation", "Leadership", "Data analysis"], offers_order="",
        offers_ranked=["Negotiation", "Leadership", "Data analysis"], offers_rank=["3", "1", "2"],
        save_draft="Save draft"))
    assert participant_of(app, "ana").offers == ["Leadership", "Data analysis", "Negotiation"]


def test_ranked_list_shows_saved_priority_with_rank_inputs(people, client, app):
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    client.post(f"/learner/cohorts/{people}/intake", data=form_data(
        token, wants=["Leadership", "Negotiation"], wants_order="Negotiation|Leadership", save_draft="Save draft"))
    html = intake_html(client, people)
    ranked = html.split('id="wants-ranked"')[1].split("</ol>")[0]
    assert ranked.index("Negotiation") < ranked.index("Leadership")
    assert 'name="wants_ranked" value="Negotiation"' in ranked and 'name="wants_rank"' in ranked
    assert 'aria-live="polite"' in html


def test_availability_grid_has_large_labelled_targets(people, client):
    html = intake_html(client, people)
    assert '<label class="slot" for="slot-wed-10"><span class="visually-hidden">Wednesday 10:00</span></label>' in html
    assert '<th scope="row" id="hour-10">10:00</th>' in html


def test_a_stored_zone_from_the_old_long_list_still_autosaves(people, client, app):
    fill(app, "ana", timezone="US/Eastern")
    token = csrf_token_in(client.get(f"/learner/cohorts/{people}/intake"))
    r = client.post(f"/learner/cohorts/{people}/intake/draft", data=form_data(token, timezone="US/Eastern"),
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200 and participant_of(app, "ana").timezone == "US/Eastern"
