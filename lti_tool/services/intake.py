"""Intake: a learner's profile in one cohort, saved as a draft as they go, and what the matcher needs.

Every lookup starts from the launch's course, so a learner only reaches cohorts of their own course.
"""
from __future__ import annotations

import logging
import re

from flask_babel import lazy_gettext as _l

from ..extensions import db
from .teams import is_published, team_of
from ..models import Cohort, Course, Participant, PartnerPreference, utcnow
from .skills import taxonomy
from ..states import ParticipantStatus

log = logging.getLogger(__name__)

GENDERS = [("woman", _l("Woman")), ("man", _l("Man")), ("non-binary", _l("Non-binary")),
           ("self-described", _l("I describe myself as…")), ("undisclosed", _l("Prefer not to say"))]
LEVELS = [("1", _l("1 – Early career")), ("2", _l("2 – Experienced individual contributor")),
          ("3", _l("3 – Team lead or senior specialist")), ("4", _l("4 – Manager of managers")),
          ("5", _l("5 – Senior leader or executive"))]
# Fields a participant may show to others (their name is always shown).
VISIBLE_FIELDS = [("gender", _l("Gender identity")), ("department", _l("Department")),
                  ("location", _l("Location")), ("timezone", _l("Time zone")), ("level", _l("Level")),
                  ("manager", _l("Manager")), ("offers", _l("Skills I offer")), ("wants", _l("Skills I want")),
                  ("goals", _l("Goals")), ("availability", _l("Availability"))]
DEFAULT_VISIBLE = ["department", "location", "offers", "wants"]


def gender_label(p: Participant) -> str:
    """What someone said about their gender, in words ("Woman", their own words, "Prefer not to say")."""
    if p.gender == "self-described" and p.gender_self_described:
        return p.gender_self_described
    return str(dict(GENDERS).get(p.gender, p.gender or ""))


def level_label(level) -> str:
    return str(dict(LEVELS).get(str(level), level)) if level not in (None, "") else ""


def visible_field_labels(p: Participant) -> list[str]:
    """What someone shows other participants, in words and in the form's order."""
    shown_now = set(p.visible_fields or [])
    return [str(label) for key, label in VISIBLE_FIELDS if key in shown_now]
MAX_REQUESTS = 3


class IntakeClosed(Exception):
    """The cohort's teams are published: intake and partner preferences can no longer change."""


def intake_open(participant: Participant) -> bool:
    """Intake can change until teams are published, and afterwards for anyone not in a team yet: a late
    joiner fills it in, then waits for the facilitator to pair them (partner requests stay closed)."""
    return not is_published(participant.cohort) or team_of(participant) is None


class PreferenceError(ValueError):
    pass


# ---------------------------------------------------------------- scoped lookups

def learner_participant(course: Course, user_id: int, cohort_id: int) -> Participant | None:
    """The launched learner's participant row in a cohort of *their launch's course*, or None."""
    return db.session.execute(
        db.select(Participant).join(Cohort, Cohort.id == Participant.cohort_id)
        .where(Cohort.id == cohort_id, Cohort.course_id == course.id, Participant.user_id == user_id)
    ).scalar_one_or_none()


def cohort_roster(cohort: Cohort) -> list[Participant]:
    return list(db.session.execute(
        db.select(Participant).where(Participant.cohort_id == cohort.id, Participant.status == ParticipantStatus.ENROLLED)
        .order_by(Participant.id)
    ).scalars())


# ---------------------------------------------------------------- saving

def split_free_text(text: str | None) -> list[str]:
    """Free-text skills: one per comma or line, trimmed, duplicates dropped (first kept)."""
    items, seen = [], set()
    for item in re.split(r"[,\n;]+", text or ""):
        item = " ".join(item.split())
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


def ordered_skills(selected: list[str], order: str | None, ranks: dict[str, int] | None = None) -> list[str]:
    """Taxonomy skills checked, most important first: by the ranks given (1 first; the rank boxes of
    the form without script), then in the order given (the ranked list the script keeps), then any
    other checked skill in taxonomy order."""
    known = taxonomy().skills
    chosen = [s for s in known if s in set(selected)]
    first = [s for s in (order or "").split("|") if s in chosen]
    ordered = list(dict.fromkeys(first + chosen))
    ranks = ranks or {}
    return sorted(ordered, key=lambda s: (ranks.get(s, float("inf")), ordered.index(s)))


def save_intake(participant: Participant, values: dict, *, submit: bool = False) -> Participant:
    """Store intake values (already validated by the form). ``submit`` marks the intake complete."""
    if not intake_open(participant):
        raise IntakeClosed()
    for key in ("gender", "gender_self_described", "department", "location", "timezone", "level",
                "manager_participant_id", "manager_name", "offers", "wants", "offers_other", "wants_other",
                "goals", "availability", "consent", "visible_fields"):
        if key in values:
            setattr(participant, key, values[key])
    if participant.gender != "self-described":
        participant.gender_self_described = None
    participant.intake_updated_at = utcnow()
    if submit and participant.intake_submitted_at is None:
        participant.intake_submitted_at = utcnow()
    elif participant.intake_submitted_at is not None and missing_for_submit(_current(participant)):
        participant.intake_submitted_at = None  # edited into an incomplete state: back to draft
    db.session.commit()
    return participant


def _current(p: Participant) -> dict:
    return {k: getattr(p, k) for k in ("gender", "gender_self_described", "department", "location", "level",
                                       "offers", "wants", "offers_other", "wants_other", "availability",
                                       "consent")}


# What submitting needs (missing_for_submit says so); the form marks these before anyone submits.
REQUIRED = ("gender", "department", "location", "level", "offers", "wants", "availability", "consent")


def missing_for_submit(values: dict) -> dict[str, str]:
    """Required fields for submitting intake: field name -> message."""
    errors = {}
    if not values.get("gender"):
        errors["gender"] = _l("Choose a gender identity, or “Prefer not to say”.")
    elif values["gender"] == "self-described" and not values.get("gender_self_described"):
        errors["gender_self_described"] = _l("Describe your gender in your own words, or choose another option.")
    if not values.get("department"):
        errors["department"] = _l("Enter your department.")
    if not values.get("location"):
        errors["location"] = _l("Enter your location.")
    if not values.get("level"):
        errors["level"] = _l("Choose your level.")
    if not values.get("offers") and not values.get("offers_other"):
        errors["offers"] = _l("Choose at least one skill you can offer, or type one.")
    if not values.get("wants") and not values.get("wants_other"):
        errors["wants"] = _l("Choose at least one skill you want to learn, or type one.")
    if not values.get("availability"):
        errors["availability"] = _l("Choose at least one hour when you could meet.")
    if not values.get("consent"):
        errors["consent"] = _l("You need to agree before submitting.")
    return errors


# ---------------------------------------------------------------- browse

def shown(participant: Participant, field: str) -> bool:
    return field in (participant.visible_fields or [])


def visible_offers(p: Participant) -> list[str]:
    return (list(p.offers or []) + split_free_text(p.offers_other)) if shown(p, "offers") else []


def visible_wants(p: Participant) -> list[str]:
    return (list(p.wants or []) + split_free_text(p.wants_other)) if shown(p, "wants") else []


def _fold(items: list[str]) -> dict[str, str]:
    return {i.casefold(): i for i in items}


def mutual_learning(me: Participant, other: Participant) -> tuple[list[str], list[str]]:
    """(what I could learn from them, what they could learn from me), using only what they show."""
    my_offers = _fold(list(me.offers or []) + split_free_text(me.offers_other))
    my_wants = _fold(list(me.wants or []) + split_free_text(me.wants_other))
    learn = [s for s in visible_offers(other) if s.casefold() in my_wants]
    teach = [s for s in visible_wants(other) if s.casefold() in my_offers]
    return learn, teach


def exchange(me: Participant, other: Participant) -> tuple[list[str], list[str]]:
    """Between team partners: (what I offer that they want to learn, what they offer that I want to learn),
    from everything both put in their intake (the matcher used it all), in the partner's order of priority."""
    my_offers = _fold(list(me.offers or []) + split_free_text(me.offers_other))
    my_wants = _fold(list(me.wants or []) + split_free_text(me.wants_other))
    give = [s for s in list(other.wants or []) + split_free_text(other.wants_other) if s.casefold() in my_offers]
    get = [s for s in list(other.offers or []) + split_free_text(other.offers_other) if s.casefold() in my_wants]
    return give, get


def browsable(me: Participant, *, skill: str = "", department: str = "", location: str = "") -> list[Participant]:
    """Other enrolled participants of my cohort who submitted intake, filtered on what they show."""
    people = [p for p in cohort_roster(me.cohort) if p.id != me.id and p.intake_submitted_at is not None]
    if skill:
        people = [p for p in people
                  if skill.casefold() in {s.casefold() for s in visible_offers(p) + visible_wants(p)}]
    if department:
        people = [p for p in people if shown(p, "department") and (p.department or "") == department]
    if location:
        people = [p for p in people if shown(p, "location") and (p.location or "") == location]
    return sorted(people, key=lambda p: (p.user.name or "").casefold())


def filter_options(me: Participant) -> dict[str, list[str]]:
    people = browsable(me)
    skills = {s for p in people for s in visible_offers(p) + visible_wants(p)}
    return {
        "skills": sorted(skills, key=str.casefold),
        "departments": sorted({p.department for p in people if shown(p, "department") and p.department}),
        "locations": sorted({p.location for p in people if shown(p, "location") and p.location}),
    }


# ---------------------------------------------------------------- partner preferences

def my_preferences(me: Participant) -> dict[int, str]:
    rows = db.session.execute(
        db.select(PartnerPreference).where(PartnerPreference.from_participant_id == me.id)
    ).scalars()
    return {row.to_participant_id: row.kind for row in rows}


def set_preference(me: Participant, other_id: int, kind: str | None) -> None:
    """Request (kind='request'), decline ('decline') or undo (None) a preference for another
    participant of the same cohort. At most MAX_REQUESTS requests."""
    if is_published(me.cohort):
        raise IntakeClosed()
    if me.status != ParticipantStatus.ENROLLED:
        raise PreferenceError(_l("You have withdrawn from this lab."))
    other = db.session.get(Participant, other_id)
    if (other is None or other.cohort_id != me.cohort_id or other.id == me.id or other.status != ParticipantStatus.ENROLLED
            or other.intake_submitted_at is None):
        raise LookupError(other_id)
    row = db.session.execute(db.select(PartnerPreference).where(
        PartnerPreference.from_participant_id == me.id, PartnerPreference.to_participant_id == other.id)
    ).scalar_one_or_none()
    if kind is None:
        if row is not None:
            db.session.delete(row)
        db.session.commit()
        return
    if kind not in ("request", "decline"):
        raise PreferenceError(kind)
    if kind == "request" and (row is None or row.kind != "request"):
        count = db.session.execute(db.select(db.func.count(PartnerPreference.id)).where(
            PartnerPreference.from_participant_id == me.id, PartnerPreference.kind == "request")).scalar_one()
        if count >= MAX_REQUESTS:
            raise PreferenceError(_l("You can request at most %(n)s partners. Undo a request first.", n=MAX_REQUESTS))
    if row is None:
        row = PartnerPreference(cohort_id=me.cohort_id, from_participant_id=me.id, to_participant_id=other.id)
        db.session.add(row)
    row.kind = kind
    db.session.commit()


def preferences_for_cohort(cohort: Cohort) -> dict[str, list[list[str]]]:
    """Requests and declines between enrolled participants of a cohort, as participant id strings:
    ``{"requests": [[from, to], ...], "declines": [[from, to], ...]}`` (ordered by creation)."""
    enrolled = {p.id for p in cohort_roster(cohort)}
    rows = db.session.execute(
        db.select(PartnerPreference).where(PartnerPreference.cohort_id == cohort.id)
        .order_by(PartnerPreference.id)
    ).scalars()
    out: dict[str, list[list[str]]] = {"requests": [], "declines": []}
    for row in rows:
        if row.from_participant_id in enrolled and row.to_participant_id in enrolled:
            out["requests" if row.kind == "request" else "declines"].append(
                [str(row.from_participant_id), str(row.to_participant_id)])
    return out
