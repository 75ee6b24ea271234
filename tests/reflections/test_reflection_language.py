"""A learner whose LMS is set to German reads the curriculum's half-day reflection in German (title and
prompts, on the page and in their data download); answers are stored by prompt id whatever the language."""
from __future__ import annotations

from tests.lti_platform import LTI
from tests.reflections.helpers import SESSION, cohort_id, lab_held, reflect


def test_a_german_learner_reflects_in_german(app, client, lti):
    from lti_tool.extensions import db
    from lti_tool.models import Reflection

    lti(role="learner", sub="ana", name="Ana", email="ana@example.com", custom={"cohort": "spring-lab"},
        extra={LTI + "launch_presentation": {"document_target": "iframe", "locale": "de-DE"}})
    cid = cohort_id(app)
    lab_held(app)
    html = client.get(f"/learner/cohorts/{cid}/reflections/{SESSION}").get_data(as_text=True)
    assert "Reflexion: Tag eins, Vormittag" in html  # the catalogue's frame around the curriculum's title
    assert "Das Überraschendste, was mein Partner weiß" in html and "(1 = nichts, 5 = sehr viel)" in html
    assert "The most unexpected thing my partner knows" not in html and "Day one, morning" not in html
    assert "Tag zwei, Nachmittag" in client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert reflect(client, cid, learned_from_partner="Bilanzen lesen", gain_self="4", gain_partner="3").status_code == 303
    with app.app_context():
        assert db.session.execute(db.select(Reflection.answers)).scalar_one() == {
            "learned_from_partner": "Bilanzen lesen", "gain_self": 4, "gain_partner": 3}
    download = client.get("/learner/my-data.json").get_data(as_text=True)
    assert "Tag eins, Vormittag" in download and "Das Überraschendste, was mein Partner weiß" in download


def test_a_progress_item_reads_in_the_language_it_is_shown_in(app, client, lti):
    """A reminder a German facilitator sends an English learner names the half day in English."""
    from flask_babel import force_locale

    from lti_tool.extensions import db
    from lti_tool.models import Participant
    from lti_tool.services.progress import progress_for
    from tests.reflections.helpers import launch

    launch(lti, "ben")
    with app.app_context():
        ben = db.session.execute(db.select(Participant)).scalar_one()
        with force_locale("de"):  # worked out on a German page
            item = next(i for i in progress_for([ben])[ben.id].items if i.key == "reflection:d1-morning")
        with force_locale("en"):
            assert str(item.label) == "Reflection: Day one, morning"
        with force_locale("fr"):
            assert str(item.label) == "Réflexion : Premier jour, matin"
