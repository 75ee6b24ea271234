"""A person's first launch knows which cohorts of the course they take part in: only the one it enrolled
them in, if any. Its landing page shows them without asking the database again; everyone else's
landing page (and a person another launch created a moment before) reads them."""
from __future__ import annotations

import re


from lti_tool.lti import sync
from tests.lti_platform import landed


def cohort_cards(response) -> list[str]:
    """The names of the cohort cards on a learner's landing page."""
    assert landed(response, "/learner/"), response.get_data(as_text=True)[:500]
    return re.findall(r'<li class="card">\s*<h2>([^<]*)</h2>', response.get_data(as_text=True))


def test_a_first_launch_through_a_link_to_a_new_cohort_shows_that_cohort(lti):
    assert cohort_cards(lti(role="learner", sub="newcomer", custom={"cohort": "autumn-lab"})) == ["Autumn lab"]


def test_a_first_launch_through_a_link_that_names_its_cohort_shows_it(lti):
    lti(role="instructor", sub="teacher", custom={"cohort": "autumn-lab"})  # the link now leads to Autumn lab
    assert cohort_cards(lti(role="learner", sub="newcomer")) == ["Autumn lab"]


def test_a_first_launch_without_a_cohort_shows_none(lti):
    assert cohort_cards(lti(role="learner", sub="newcomer", resource_link_id="link-without-cohort")) == []


def test_a_returning_person_sees_the_cohorts_of_their_earlier_launches(lti):
    lti(role="learner", sub="regular", custom={"cohort": "autumn-lab"})
    lti(role="learner", sub="regular", resource_link_id="link-2", custom={"cohort": "winter-lab"})
    assert cohort_cards(lti(role="learner", sub="regular", resource_link_id="link-without-cohort")) == ["Autumn lab", "Winter lab"]


def test_a_person_another_launch_created_meanwhile_sees_their_cohorts(lti, monkeypatch):
    """Two launches of one person at once: this one's lookup found no row, the other then created it and
    enrolled them in a cohort, and this one's insert became an update. The person is not new, so their
    landing page reads their cohorts rather than assuming they have none."""
    lti(role="learner", sub="twin", custom={"cohort": "autumn-lab"})  # the other launch, already committed
    find_rows = sync._record_nonce_and_find_rows

    def lookup_before_the_other_launch(used_nonce, keys):
        return [(None, course, link) for _, course, link in find_rows(used_nonce, keys)][:1]

    monkeypatch.setattr(sync, "_record_nonce_and_find_rows", lookup_before_the_other_launch)
    assert cohort_cards(lti(role="learner", sub="twin", resource_link_id="link-without-cohort")) == ["Autumn lab"]
