"""The curriculum's participant-facing text in German and French (lab_curriculum/data/translations/):
complete, same placeholders, only existing ids, and the same lab (ids, times, structure) in every
language. No app, no database."""
from __future__ import annotations

import dataclasses
import shutil

import pytest
import yaml

from lab_curriculum import CurriculumError, load_curriculum
from lab_curriculum import translate
from lab_curriculum.loader import DEFAULT_PATH

LANGUAGES = ("de", "fr")


def english() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text())


def overlay(language: str) -> dict:
    return yaml.safe_load(translate.overlay_path(DEFAULT_PATH, language).read_text())


def test_german_and_french_are_shipped():
    assert set(LANGUAGES) <= set(translate.languages(DEFAULT_PATH))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_participant_facing_field_is_translated(language):
    source = english()
    wanted = translate.fields(source)
    given = translate.flatten({k: v for k, v in overlay(language).items() if k != "curriculum"})
    missing = sorted(set(wanted) - set(given))
    assert not missing, f"{language}: no translation for {missing}"
    assert translate.problems(source, overlay(language), language) == []
    assert all(isinstance(given[k], str) and given[k].strip() for k in wanted)
    # A translation that is the English text again is a forgotten one (the product's name aside).
    untranslated = sorted(k for k in wanted if given[k] == wanted[k] and k != "title")
    assert not untranslated, f"{language}: still English: {untranslated}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_translated_lab_is_the_same_lab(language):
    en = load_curriculum(DEFAULT_PATH, overrides={})
    other = load_curriculum(DEFAULT_PATH, overrides={}, locale=language)
    assert other.language == language and en.language == "en"

    def shape(lab):
        return ([(s.id, s.day, s.start_offset_minutes, s.duration_minutes, s.kind, [(p.id, p.kind, p.scale_min,
                  p.scale_max) for p in s.prompts], s.activities, s.material_ids) for s in lab.sessions],
                [(r.id, r.day, r.half, r.after, [(p.id, p.kind) for p in r.prompts]) for r in lab.half_day_reflections],
                dataclasses.replace(lab.follow_up, agenda=len(lab.follow_up.agenda),
                                    prompts=[(p.id, p.kind) for p in lab.follow_up.prompts]),
                lab.id, lab.days, lab.day_start, lab.materials, lab.evaluation, lab.room)
    assert shape(other) == shape(en)
    texts = {s.id: s.title for s in other.sessions}
    assert texts["d1-welcome"] != en.session("d1-welcome").title
    half = other.half_day_reflections[0]
    assert half.title != en.half_day_reflections[0].title
    assert [p.text for p in half.prompts] != [p.text for p in en.half_day_reflections[0].prompts]


def test_the_shared_prompts_are_translated_per_place():
    """Sessions share one prompt list in the YAML (an alias); each place gets its own text all the same."""
    de = load_curriculum(DEFAULT_PATH, overrides={}, locale="de")
    morning = next(p for p in de.half_day_reflections[0].prompts if p.id == "gain_self")
    session = next(p for p in de.session("d1-welcome").prompts if p.id == "gain_self")
    assert "Vormittag" in morning.text and "Einheit" in session.text


@pytest.mark.parametrize("locale, language", [("de", "de"), ("de_CH", "de"), ("de-AT", "de"), ("fr_CA", "fr"),
                                              ("FR", "fr"), ("en", "en"), ("en_GB", "en"), ("es", "en"),
                                              ("", "en"), (None, "en")])
def test_the_language_follows_the_locale(locale, language):
    assert translate.language_of(locale, ["de", "fr"]) == language
    assert load_curriculum(DEFAULT_PATH, overrides={}, locale=locale).language == language


def test_outside_the_app_the_default_is_english():
    lab = load_curriculum(DEFAULT_PATH, overrides={})
    assert lab.session("d1-welcome").title == "Two experts in one room"


def copy_lab(tmp_path, changes: dict) -> None:
    """The shipped lab next to a German overlay with ``changes`` applied."""
    shutil.copy(DEFAULT_PATH, tmp_path / "lab.yaml")
    (tmp_path / "translations").mkdir()
    data = overlay("de")
    for key, value in changes.items():
        target = data
        *parents, last = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    (tmp_path / "translations" / "de.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("changes, expected", [
    ({"sessions.d9-nope.title": "Gibt es nicht"}, "sessions.d9-nope.title: no such id or field"),
    ({"sessions.d1-welcome.prompts.nope": "Frage"}, "sessions.d1-welcome.prompts.nope: no such id"),
    ({"reflections.d1-evening.title": "Abend"}, "reflections.d1-evening.title: no such id"),
    ({"sessions.d1-welcome.purpose": "Zweck"}, "sessions.d1-welcome.purpose: no such id or field"),
    ({"follow_up.agenda": ["eins", "zwei", "drei", "vier"]}, "follow_up.agenda.3: no such id"),
    ({"sessions.d1-welcome.title": ""}, "sessions.d1-welcome.title: the translation must be non-empty"),
    ({"title": "Lab %(name)s"}, "title: placeholders differ"),
    ({"curriculum": "another-lab"}, "field curriculum: translates 'another-lab'"),
])
def test_a_wrong_overlay_is_an_error_naming_the_field(tmp_path, changes, expected):
    copy_lab(tmp_path, changes)
    with pytest.raises(CurriculumError) as error:
        load_curriculum(tmp_path / "lab.yaml", overrides={}, locale="de")
    assert any(str(tmp_path / "translations" / "de.yaml") in p and expected in p for p in error.value.problems), \
        error.value.problems
    assert load_curriculum(tmp_path / "lab.yaml", overrides={}).language == "en"  # English never reads it


def test_a_missing_field_stays_english(tmp_path):
    copy_lab(tmp_path, {})
    data = overlay("de")
    del data["sessions"]["d1-welcome"]["title"]
    (tmp_path / "translations" / "de.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    lab = load_curriculum(tmp_path / "lab.yaml", overrides={}, locale="de")
    assert lab.session("d1-welcome").title == "Two experts in one room"
    assert lab.session("d1-listening").title == "Zuhören, das bestärkt"


def test_an_organisations_overrides_win_over_the_shipped_translation():
    example = DEFAULT_PATH.parents[2] / "config" / "curriculum" / "overrides.example.yaml"
    lab = load_curriculum(DEFAULT_PATH, overrides=example, locale="de")
    assert lab.session("d1-welcome").title == "Zwei Expertinnen und Experten in einem Raum"  # its own German
    assert lab.session("d1-working-together").title == "Working across gender at Example Corp"  # its change
    assert lab.session("d2-company-values").prompts[0].text == "Where will our team use the charter?"  # added
    assert lab.session("d1-listening").title == "Zuhören, das bestärkt"  # untouched: the shipped German
