"""Learner intake: the skills taxonomy, saving a profile, and what the matcher receives."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from ..extensions import db
from ..models import Cohort, LtiUser, PartnerPreference, Participant, utcnow

SKILLS_FILE = Path(__file__).resolve().parents[2] / "config" / "skills.yaml"
GENDER_CHOICES = ["woman", "man", "non-binary", "self-described", "undisclosed"]
VISIBLE_FIELD_CHOICES = ["department", "location", "level", "offers", "wants", "goals"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
HOURS = list(range(8, 18))


class TaxonomyError(ValueError):
    pass


@lru_cache(maxsize=4)
def skills_taxonomy(path: str = str(SKILLS_FILE)) -> dict[str, list[str]]:
    """Groups of skill names from config/skills.yaml (an organisation may edit it)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise TaxonomyError(f"{path}: cannot read the skills taxonomy: {e}") from e
    if not isinstance(data, dict) or not all(isinstance(v, list) and all(isinstance(s, str) for s in v)
                                             for v in data.values()):
        raise TaxonomyError(f"{path}: expected groups, each a list of skill names")
    return {str(group): list(skills) for group, skills in data.items()}


def all_skills() -> list[str]:
    return [s for group in skills_taxonomy().values() for s in group]


def slot_names() -> list[str]:
    return [f"{day}-{hour:02d}" for day in WEEKDAYS for hour in HOURS]


def _free_text(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def save_intake(participant: Participant, data: dict, *, submit: bool) -> None:
    """Store the intake fields (a draft, or submitted when ``submit``)."""
    for field in ("gender", "gender_self_described", "department", "location", "timezone", "level",
                  "manager_participant_id", "manager_name", "offers", "wants", "offers_other", "wants_other",
                  "goals", "availability", "consent", "visible_fields"):
        if field in data:
            setattr(participant, field, data[field])
    participant.intake_updated_at = utcnow()
    if submit:
        participant.intake_submitted_at = participant.intake_submitted_at or utcnow()
    db.session.commit()


def display_name(participant: Participant) -> str:
    user = participant.user if participant.user is not None else db.session.get(LtiUser, participant.user_id)
    return user.name or f"Participant {participant.id}"


def matching_pool_entry(participant: Participant) -> dict:
    """The participant as POOL.json expects it (DESIGN.md), ids as strings of participant ids."""
    gender = participant.gender or "undisclosed"
    if gender == "self-described":
        words = (participant.gender_self_described or "").strip()
        gender = f"self-described:{words}" if words else "undisclosed"
    if participant.manager_participant_id:
        manager = str(participant.manager_participant_id)
    elif participant.manager_name:
        manager = "ext:" + participant.manager_name.strip().lower()
    else:
        manager = None
    return {
        "id": str(participant.id), "name": display_name(participant), "gender": gender,
        "department": participant.department or "", "location": participant.location or "",
        "timezone": participant.timezone or participant.cohort.timezone or "UTC", "level": participant.level or 3,
        "manager_id": manager,
        "offers": list(participant.offers or []) + _free_text(participant.offers_other),
        "wants": list(participant.wants or []) + _free_text(participant.wants_other),
        "availability": list(participant.availability or []), "previous_partners": [],
    }


def preferences_for_cohort(cohort: Cohort) -> dict[str, list[list[int]]]:
    rows = db.session.execute(db.select(PartnerPreference).where(PartnerPreference.cohort_id == cohort.id)).scalars()
    out: dict[str, list[list[int]]] = {"requests": [], "declines": []}
    for row in rows:
        out["requests" if row.kind == "request" else "declines"].append([row.from_participant_id, row.to_participant_id])
    return out
