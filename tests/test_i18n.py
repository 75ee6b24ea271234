"""Translations: every marked string is in the catalogues, the English catalogue loads, the page
language follows the LTI launch (then the browser, then English), and timestamps are shown in the
viewer's time zone."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from tests.lti_platform import landed

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
ENGLISH_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
ENGLISH_MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, request) -> Catalog:
    """What `make translations` extracts from lti_tool/ and templates/ today (the same pybabel command)."""
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    mp.chdir(ROOT)  # babel.cfg's patterns are relative to the repository
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                                "--ignore-dirs", ".* __pycache__", "-o", str(out), "."])
    return _read(out)


def not_in(catalogue: Catalog, extracted: Catalog) -> list[str]:
    """Marked messages a catalogue lacks (or has with a different plural), with where they are marked."""
    missing = []
    for message in extracted:
        if not message.id:
            continue  # the header
        entry = catalogue.get(message.id, message.context)
        if entry is None or entry.id != message.id:
            where = ", ".join(f"{path}:{line}" for path, line in message.locations)
            missing.append(f"{message.id!r} ({where})")
    return missing


def test_extraction_finds_strings_from_python_and_templates(extracted):
    files = {path for message in extracted for path, _ in message.locations}
    assert any(f.startswith("lti_tool/") and f.endswith(".py") for f in files)  # gettext and lazy_gettext
    assert any(f.startswith("templates/") and f.endswith(".html") for f in files)
    assert extracted.get("Time zone") is not None  # lazy_gettext (_l) in lti_tool/learner/forms.py
    assert any(f.startswith("templates/_macros/") for f in files)  # a directory Babel skips by default
    assert any(f.startswith("templates/email/") and f.endswith(".txt") for f in files)  # mail subjects and text
    plural = extracted.get("%(num)s person")
    assert plural is not None and plural.id == ("%(num)s person", "%(num)s people")  # ngettext in a template


def test_every_marked_string_is_in_the_english_catalogue(extracted):
    missing = not_in(_read(ENGLISH_PO), extracted)
    assert not missing, ("Strings marked for translation but missing from translations/en/LC_MESSAGES/"
                         "messages.po; run `make translations` and commit the catalogue:\n  " + "\n  ".join(missing))


def test_the_check_reports_a_string_left_out_of_the_catalogue(extracted):
    catalogue = Catalog(locale="en")
    for message in extracted:
        if message.id and message.id != "Time zone":
            catalogue.add(message.id, context=message.context)
    left_out = extracted.get("Time zone")
    where = ", ".join(f"{path}:{line}" for path, line in left_out.locations)
    assert not_in(catalogue, extracted) == [f"'Time zone' ({where})"]
    catalogue.add("Time zone")
    assert not_in(catalogue, extracted) == []
    catalogue.delete("%(num)s person")
    catalogue.add("%(num)s person")  # the singular alone: ngettext's plural would be lost
    assert [m.split(" (")[0] for m in not_in(catalogue, extracted)] == ["('%(num)s person', '%(num)s people')"]


# --- German and French: complete, and each translation keeps the placeholders of its source ---------

TRANSLATED = ("de", "fr")
# What must travel unchanged from the source text into a translation: gettext placeholders
# (%(name)s, a bare or stray %), str.format fields ({name}) and HTML tags.
PLACEHOLDER = re.compile(r"%\([^)]*\)[a-z]|%[a-z%]?|\{[^{}]*\}|</?[a-zA-Z][^<>]*>")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def translation_problems(catalogue: Catalog, extracted: Catalog) -> list[str]:
    """Every extracted message the catalogue does not translate properly: absent, fuzzy, an empty
    msgstr (or plural form), or placeholders that differ from the source — with where it is marked."""
    problems = []
    for message in extracted:
        if not message.id:
            continue
        where = ", ".join(f"{path}:{line}" for path, line in message.locations)
        entry = catalogue.get(message.id, message.context)
        if entry is None or entry.id != message.id:
            problems.append(f"{message.id!r} ({where}): not in the catalogue")
            continue
        if entry.fuzzy:
            problems.append(f"{message.id!r} ({where}): fuzzy")
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            problems.append(f"{message.id!r} ({where}): not translated")
            continue
        for number, text in enumerate(strings):
            # A plural's first form may leave out the number ("one other team"); the others keep the plural's.
            wanted = [placeholders(source) for source in sources] if number == 0 else [placeholders(sources[-1])]
            if placeholders(text) not in wanted:
                problems.append(f"{message.id!r} ({where}): placeholders {placeholders(text)} in {text!r}, "
                                f"expected {wanted[-1]}")
    return problems


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_in(lang, extracted):
    problems = translation_problems(_read(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"), extracted)
    assert not problems, (f"translations/{lang}/LC_MESSAGES/messages.po needs a translator: run `make translations`, "
                          "translate these and commit:\n  " + "\n  ".join(problems))


@pytest.fixture
def french_time_zone(extracted) -> tuple[Catalog, Catalog]:
    """A French catalogue that translates exactly two extracted messages: a plain one and a plural."""
    source = Catalog(locale="fr")
    for message_id in ("Time zone", ("%(num)s person", "%(num)s people")):
        source[message_id] = extracted.get(message_id if isinstance(message_id, str) else message_id[0])
    catalogue = Catalog(locale="fr")
    catalogue.add("Time zone", "Fuseau horaire")
    catalogue.add(("%(num)s person", "%(num)s people"), ("%(num)s personne", "%(num)s personnes", "%(num)s personnes"))
    return catalogue, source


def test_the_translation_check_accepts_a_complete_catalogue(french_time_zone):
    catalogue, source = french_time_zone
    assert translation_problems(catalogue, source) == []


@pytest.mark.parametrize(("change", "reported"), [
    (lambda c: c.delete("Time zone"), "'Time zone' (WHERE): not in the catalogue"),
    (lambda c: setattr(c["Time zone"], "string", ""), "'Time zone' (WHERE): not translated"),
    (lambda c: c["Time zone"].flags.add("fuzzy"), "'Time zone' (WHERE): fuzzy"),
    (lambda c: setattr(c["Time zone"], "string", "Fuseau %(tz)s"),
     "'Time zone' (WHERE): placeholders ['%(tz)s'] in 'Fuseau %(tz)s', expected []"),
    (lambda c: setattr(c["Time zone"], "string", "Fuseau <b>horaire"),
     "'Time zone' (WHERE): placeholders ['<b>'] in 'Fuseau <b>horaire', expected []"),
], ids=["missing", "empty", "fuzzy", "placeholder", "html-tag"])
def test_the_translation_check_names_the_message_and_the_problem(french_time_zone, change, reported):
    catalogue, source = french_time_zone
    change(catalogue)
    where = ", ".join(f"{path}:{line}" for path, line in source.get("Time zone").locations)
    assert translation_problems(catalogue, source) == [reported.replace("WHERE", where)]


def test_the_translation_check_reads_every_plural_form(french_time_zone):
    catalogue, source = french_time_zone
    catalogue["%(num)s person"].string = ("%(num)s personne", "%(num)s personnes", "")
    assert [p.split(": ", 1)[1] for p in translation_problems(catalogue, source)] == ["not translated"]
    catalogue["%(num)s person"].string = ("%(num)s personne", "personnes", "%(num)s personnes")
    assert [p.split(": ", 1)[1].split(" in ")[0] for p in translation_problems(catalogue, source)] == ["placeholders []"]


def test_english_catalogue_is_compiled_found_and_loaded():
    from flask_babel import get_locale, get_translations, gettext, ngettext

    from lti_tool import create_app

    assert ENGLISH_MO.exists(), "translations are compiled by `make` (pybabel compile -d translations)"
    app = create_app("config.settings.TestingConfig")
    assert Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]) == TRANSLATIONS
    with app.test_request_context("/", headers={"Accept-Language": "en-GB,en;q=0.8"}):
        assert str(get_locale()) == "en"
        translations = get_translations()
        assert translations.files == [str(ENGLISH_MO)]  # loaded from the repository, not a fallback
        assert "Language: en" in translations.gettext("")  # the catalogue's own header
        # English catalogue entries are left empty on purpose: gettext gives back the source text.
        assert gettext("Saved") == "Saved"
        assert ngettext("%(num)s person", "%(num)s people", 1) == "1 person"
        assert ngettext("%(num)s person", "%(num)s people", 3) == "3 people"


# --- the page's language ----------------------------------------------------------------------------

MY_LAB = {"fr": "Mon atelier", "de": "Mein Labor"}


@pytest.fixture
def more_languages(app, tmp_path, monkeypatch):
    """French and German catalogues (one translated string each) alongside the repository's English."""
    from lti_tool.extensions import babel

    for lang, text in MY_LAB.items():
        catalogue = Catalog(locale=lang)
        catalogue.add("My lab", text)
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "messages.mo").open("wb") as f:
            write_mo(f, catalogue)
    config = app.extensions["babel"]
    monkeypatch.setattr(config, "translation_directories", [*config.translation_directories, str(tmp_path)])
    monkeypatch.delitem(app.extensions, "rml_locales", raising=False)  # the catalogues found, listed once per app
    with app.app_context():
        monkeypatch.setattr(babel.domain_instance, "cache", {})  # loaded catalogues are cached per locale


def learner_home(lti, client, launch_locale, accept_language=None):
    presentation = {"document_target": "iframe", "return_url": lti.platform.issuer + "/return"}
    if launch_locale is not None:
        presentation["locale"] = launch_locale
    response = lti(role="learner", sub="ana", custom={"cohort": "spring"},
                   extra={"https://purl.imsglobal.org/spec/lti/claim/launch_presentation": presentation})
    assert landed(response)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = client.get("/learner/", headers=headers)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def title_and_lang(html: str) -> tuple[str, str]:
    lang = html.split('<html lang="', 1)[1].split('"', 1)[0]
    title = html.split("<title>", 1)[1].split(" · ", 1)[0]
    return title, lang


def test_the_launch_locale_wins_and_only_the_string_is_kept(more_languages, lti, client):
    html = learner_home(lti, client, "fr-CA", accept_language="de-DE,de;q=0.9")
    # fr-CA has no catalogue of its own: the French one serves it, whatever the browser prefers.
    assert title_and_lang(html) == ("Mon atelier", "fr")
    with client.session_transaction() as session:
        assert session["locale"] == "fr-CA"


def test_browser_language_when_the_launch_locale_has_no_catalogue(more_languages, lti, client):
    html = learner_home(lti, client, "es-ES", accept_language="es;q=1, de-AT;q=0.8, fr;q=0.5")
    assert title_and_lang(html) == ("Mein Labor", "de")


def test_browser_language_when_the_launch_sends_none(more_languages, lti, client):
    html = learner_home(lti, client, None, accept_language="fr-FR")
    assert title_and_lang(html) == ("Mon atelier", "fr")


def test_english_when_nothing_matches(more_languages, lti, client):
    html = learner_home(lti, client, "es", accept_language="pt-BR")
    assert title_and_lang(html) == ("My lab", "en")


# --- the viewer's time zone -------------------------------------------------------------------------


def submitted_reflection(app, lti, sub, *, intake_timezone, cohort_timezone="UTC", when=datetime(2026, 1, 10, 15, 30)):
    """Launch ``sub`` into cohort 'spring' and give them a reflection submitted at ``when`` (UTC)."""
    from lti_tool.extensions import db
    from tests.reflections.helpers import lab_held
    from lti_tool.models import Cohort, LtiUser, Participant, Reflection

    assert landed(lti(role="learner", sub=sub, custom={"cohort": "spring"}))
    with app.app_context():
        participant = db.session.execute(db.select(Participant).join(LtiUser, LtiUser.id == Participant.user_id)
                                         .where(LtiUser.sub == sub)).scalar_one()
        participant.timezone = intake_timezone
        db.session.get(Cohort, participant.cohort_id).timezone = cohort_timezone
        db.session.add(Reflection(participant_id=participant.id, cohort_id=participant.cohort_id,
                                  session_id="d1-morning", answers={"learned_from_partner": "x"},
                                  status="submitted", submitted_at=when, updated_at=when))
        db.session.commit()
        cohort_id = participant.cohort_id
    lab_held(app)  # the half-day reflections open once the lab has happened
    return cohort_id


@pytest.fixture
def two_days_later(monkeypatch):
    """It is 11 January 2026: a reflection submitted on the 10th is still editable (72 h window)."""
    monkeypatch.setattr("lti_tool.services.reflections.utcnow", lambda: datetime(2026, 1, 11, 9, 0))


def test_reflection_deadline_in_the_learners_intake_time_zone(app, lti, client, two_days_later):
    cid = submitted_reflection(app, lti, "ana", intake_timezone="America/New_York", cohort_timezone="Europe/Berlin")
    # Submitted 15:30 UTC on 10 January, editable for 72 hours: 13 January 15:30 UTC = 10:30 in New York (EST).
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "Submitted (you can edit until Jan 13, 2026, 10:30:00\u202fAM (America/New_York))" in listing
    form = client.get(f"/learner/cohorts/{cid}/reflections/d1-morning").get_data(as_text=True)
    assert "You can still edit it until Jan 13, 2026, 10:30:00\u202fAM (America/New_York)." in form
    assert "UTC" not in listing and "UTC" not in form


def test_reflection_deadline_in_the_cohorts_time_zone_without_an_intake_zone(app, lti, client, two_days_later):
    cid = submitted_reflection(app, lti, "ben", intake_timezone=None, cohort_timezone="Asia/Tokyo")
    listing = client.get(f"/learner/cohorts/{cid}/reflections").get_data(as_text=True)
    assert "until Jan 14, 2026, 12:30:00\u202fAM (Asia/Tokyo)" in listing  # 15:30 UTC + 9 h: the next day


def test_a_facilitator_sees_a_cohort_in_its_time_zone_and_elsewhere_utc(app, lti):
    from lti_tool.extensions import db
    from lti_tool.i18n import viewer_timezone_name
    from lti_tool.models import Cohort, LtiUser

    submitted_reflection(app, lti, "ana", intake_timezone="America/New_York", cohort_timezone="Europe/Berlin")
    assert landed(lti(role="instructor", sub="fay"))
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
        ids = {sub: db.session.execute(db.select(LtiUser.id).where(LtiUser.sub == sub)).scalar_one()
               for sub in ("ana", "fay")}
        assert viewer_timezone_name(ids["fay"], cohort.course_id, cohort.id) == "Europe/Berlin"
        assert viewer_timezone_name(ids["fay"], cohort.course_id, None) is None  # shown in UTC
        assert viewer_timezone_name(ids["ana"], cohort.course_id, None) == "America/New_York"
        assert viewer_timezone_name(ids["ana"], cohort.course_id + 1000, None) is None  # not another course's


# --- the shipped German and French catalogues, chosen by the launch --------------------------------


@pytest.mark.parametrize(("tag", "expected"), [("de-DE", "de"), ("de", "de"), ("fr-CA", "fr"), ("fr_FR", "fr"),
                                               ("en-GB", "en"), ("es-ES", None)])
def test_a_launch_locale_picks_the_shipped_catalogue(app, tag, expected):
    from lti_tool.i18n import available_locales, best_locale

    with app.test_request_context("/"):
        assert {"de", "en", "fr"} <= set(available_locales())
        assert best_locale([tag], available_locales()) == expected


@pytest.mark.parametrize(("launch_locale", "title", "lang"), [("de-DE", "Mein Lab", "de"), ("fr-CA", "Mon atelier", "fr")])
def test_a_launch_in_german_or_french_shows_the_pages_in_it(lti, client, launch_locale, title, lang):
    html = learner_home(lti, client, launch_locale, accept_language="en-US")
    assert title_and_lang(html) == (title, lang)
    assert "My lab" not in html


def test_a_german_launch_shows_the_intake_form_in_german(app, lti, client):
    from lti_tool.extensions import db
    from lti_tool.models import Cohort

    learner_home(lti, client, "de-DE")
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort)).scalar_one()
    page = client.get(f"/learner/cohorts/{cohort.id}/intake").get_data(as_text=True)
    assert f"Ihr Fragebogen für {cohort.name}" in page
    assert "Entwurf speichern" in page and "Fragebogen absenden" in page  # the form's buttons
    assert "Geschlechtsidentität" in page and "Zeitzone" in page  # the fields' labels
    assert "Save draft" not in page and "Time zone" not in page


def test_form_messages_follow_each_requests_language_with_catalogues_parsed_once(app, monkeypatch):
    """WTForms' own messages (a required field left empty) are in the request's language, and each
    language's catalogue is read from disk once per process, not on every request with a form."""
    from babel import support

    from lti_tool import forms
    from lti_tool.lti.forms import ProfileForm

    monkeypatch.setattr(forms, "_CATALOGUES", {})
    loads = []
    real_load = support.Translations.load

    def counted_load(dirname=None, locales=None, domain=None):
        loads.append((tuple(locales or ()), domain))
        return real_load(dirname, locales, domain)

    monkeypatch.setattr(support.Translations, "load", staticmethod(counted_load))
    required = {}
    for language in ("de", "fr", "de", "en", "fr", "de"):
        with app.test_request_context("/", method="POST", data={"display_name": "", "email": ""},
                                      headers={"Accept-Language": language}):
            form = ProfileForm(meta={"csrf": False})
            assert not form.validate()
            required.setdefault(language, set()).add(form.display_name.errors[0])
    assert required == {"de": {"Dieses Feld wird benötigt."}, "fr": {"Ce champ est requis."},
                        "en": {"This field is required."}}
    assert sorted(locales for locales, domain in loads if domain == "wtforms") == [("de",), ("en",), ("fr",)]


def test_page_translations_follow_a_language_change_within_a_request(app):
    """Templates look the translations up once per request and language; a launch that changes the
    language (``flask_babel.refresh()``) and then draws its landing page gets the new one."""
    from types import SimpleNamespace

    import flask_babel
    from flask import g

    template = app.jinja_env.from_string("{{ _('My lab') }}")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert template.render() == "My lab"
        assert template.render() == "My lab"
        g.lti = SimpleNamespace(locale="de-DE")  # what a launch's locale claim sets
        flask_babel.refresh()
        assert template.render() == "Mein Lab"
