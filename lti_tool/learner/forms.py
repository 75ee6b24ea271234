"""Learner forms. Choices are checked here; what submitting requires is in services.intake."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from ..forms import LabForm
from wtforms.fields.choices import SelectChoice
from wtforms import (BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField,
                     SubmitField, TextAreaField)
from wtforms.validators import Length, ValidationError

from ..services import intake, slots, withdrawal
from ..services.skills import taxonomy

# Time zones people live in: "Area/City" names only (no "Factory", "localtime", "Etc/GMT+5", "US/Eastern"
# or other aliases), plus UTC; the common ones are offered first.
_AREAS = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
          "Pacific"}
TIMEZONES = sorted(z for z in available_timezones() if z.partition("/")[0] in _AREAS) + ["UTC"]
COMMON_TIMEZONES = [z for z in (
    "Europe/London", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome",
    "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Istanbul",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
    "America/Mexico_City", "America/Sao_Paulo", "Africa/Lagos", "Africa/Nairobi", "Africa/Johannesburg",
    "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "UTC",
) if z in TIMEZONES]
_ZONE_BY_FOLDED = {z.casefold(): z for z in TIMEZONES}


def known_zone(form, field):
    """A time zone of the list, typed in any case; stored under its proper name."""
    typed = (field.data or "").strip()
    if not typed:
        field.data = ""
        return
    if typed == getattr(form, "kept_zone", None):
        return  # chosen from the longer list this form once offered ("US/Eastern"): kept, not refused
    if typed.casefold() not in _ZONE_BY_FOLDED:
        raise ValidationError(_l("Not a valid choice. Choose a time zone from the list, such as Europe/Berlin."))
    field.data = _ZONE_BY_FOLDED[typed.casefold()]


def skill_ranks(names: list[str], ranks: list[str]) -> dict[str, int]:
    """The numeric ranks typed next to ranked skills (form without script); blank or odd ones are ignored."""
    out = {}
    for name, rank in zip(names or [], ranks or []):
        if str(rank).strip().isdigit():
            out.setdefault(name, int(rank))
    return out


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


def one_of_or_empty(form, field):
    if field.data in (None, "", []):
        return
    allowed = {c.value for c in field.choices}
    data = field.data if isinstance(field.data, list) else [field.data]
    if any(str(d) not in allowed for d in data):
        raise ValidationError(_l("Not a valid choice."))


class IntakeForm(LabForm):
    gender = RadioField(_l("Gender identity"), choices=choices(intake.GENDERS), validate_choice=False,
                        validators=[one_of_or_empty])
    gender_self_described = StringField(_l("Your gender in your own words"), validators=[Length(max=100)])
    department = StringField(_l("Department"), validators=[Length(max=200)])
    location = StringField(_l("Location"), description=_l("City or office, e.g. “Lisbon office”."),
                           validators=[Length(max=200)])
    timezone = StringField(_l("Time zone"), validators=[known_zone],
                           description=_l("Type a city to search, e.g. “Berlin” or “New York”."))
    level = RadioField(_l("Level"), choices=choices(intake.LEVELS), validate_choice=False, validators=[one_of_or_empty])
    manager = SelectField(_l("Your manager, if they are in this lab"), validate_choice=False,
                          validators=[one_of_or_empty],
                          description=_l("So you are not paired with your own manager."))
    manager_name = StringField(_l("Or your manager’s name, if they are not in this lab"),
                               validators=[Length(max=200)])
    offers = SelectMultipleField(_l("Skills I can offer"), validate_choice=False, validators=[one_of_or_empty])
    offers_order = HiddenField()
    offers_ranked = SelectMultipleField(validate_choice=False)  # the ranked list's skills, in its order
    offers_rank = SelectMultipleField(validate_choice=False)  # and their rank numbers
    offers_other = TextAreaField(_l("Other skills I can offer"), validators=[Length(max=1000)],
                                 description=_l("Separate skills with commas, most important first."))
    wants = SelectMultipleField(_l("Skills I want to learn"), validate_choice=False, validators=[one_of_or_empty])
    wants_order = HiddenField()
    wants_ranked = SelectMultipleField(validate_choice=False)  # the ranked list's skills, in its order
    wants_rank = SelectMultipleField(validate_choice=False)  # and their rank numbers
    wants_other = TextAreaField(_l("Other skills I want to learn"), validators=[Length(max=1000)],
                                description=_l("Separate skills with commas, most important first."))
    goals = TextAreaField(_l("What do you hope to get from the lab?"), validators=[Length(max=2000)])
    availability = SelectMultipleField(_l("When could you meet your partner after the lab?"),
                                       choices=choices((s, s) for s in slots.SLOTS), validate_choice=False,
                                       validators=[one_of_or_empty])
    consent = BooleanField(_l("I agree that the lab uses my answers to match me with a partner, and that "
                              "other participants see the fields I choose to show."))
    visible = SelectMultipleField(_l("Shown to other participants"), choices=choices(intake.VISIBLE_FIELDS),
                                  validate_choice=False, validators=[one_of_or_empty])
    save_draft = SubmitField(_l("Save draft"))
    submit_intake = SubmitField(_l("Submit intake"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in intake.REQUIRED:
            self[name].flags.required = True

    def set_choices(self, roster, me) -> None:
        self.kept_zone = me.timezone
        skills = choices((s, s) for s in taxonomy().skills)
        self.offers.choices = skills
        self.wants.choices = skills
        self.manager.choices = choices([("", _l("Not in this lab / no manager"))] + [
            (p.id, p.user.name or _l("Unnamed participant")) for p in roster if p.id != me.id])

    def ranked(self, name: str) -> list[str]:
        """The skills picked in ``name`` ("offers" or "wants"), most important first."""
        return intake.ordered_skills(self[name].data or [], self[f"{name}_order"].data,
                                     skill_ranks(self[f"{name}_ranked"].data, self[f"{name}_rank"].data))

    def values(self) -> dict:
        """Form data as Participant attributes."""
        gender = self.gender.data or None
        level = int(self.level.data) if self.level.data else None
        return {
            "gender": gender,
            "gender_self_described": (self.gender_self_described.data or "").strip() or None,
            "department": (self.department.data or "").strip() or None,
            "location": (self.location.data or "").strip() or None,
            "timezone": self.timezone.data or None,
            "level": level,
            "manager_participant_id": int(self.manager.data) if self.manager.data else None,
            "manager_name": None if self.manager.data else ((self.manager_name.data or "").strip() or None),
            "offers": self.ranked("offers"),
            "wants": self.ranked("wants"),
            "offers_other": (self.offers_other.data or "").strip() or None,
            "wants_other": (self.wants_other.data or "").strip() or None,
            "goals": (self.goals.data or "").strip() or None,
            "availability": [s for s in slots.SLOTS if s in set(self.availability.data or [])],
            "consent": bool(self.consent.data),
            "visible_fields": [k for k, _ in intake.VISIBLE_FIELDS if k in set(self.visible.data or [])],
        }

    def load(self, p) -> None:
        """Fill an unsubmitted (GET) form from the stored intake."""
        self.gender.data = p.gender
        self.gender_self_described.data = p.gender_self_described
        self.department.data = p.department
        self.location.data = p.location
        self.timezone.data = p.timezone or p.cohort.timezone
        self.level.data = str(p.level) if p.level else None
        self.manager.data = str(p.manager_participant_id) if p.manager_participant_id else ""
        self.manager_name.data = p.manager_name
        self.offers.data = list(p.offers or [])
        self.offers_order.data = "|".join(p.offers or [])
        self.wants.data = list(p.wants or [])
        self.wants_order.data = "|".join(p.wants or [])
        self.offers_other.data = p.offers_other
        self.wants_other.data = p.wants_other
        self.goals.data = p.goals
        self.availability.data = list(p.availability or [])
        self.consent.data = p.consent
        self.visible.data = list(p.visible_fields) if p.intake_updated_at else list(intake.DEFAULT_VISIBLE)


class PreferenceForm(LabForm):
    action = HiddenField()




class WithdrawForm(LabForm):
    reason = RadioField(_l("Why are you leaving? (optional)"), default="", choices=choices([("", _l("I prefer not to say")), *withdrawal.REASONS]),
                        validators=[one_of_or_empty],
                        description=_l("Only counted, never shown next to your name: it helps the facilitator "
                                       "and L&D improve the lab."))
    confirm = SubmitField(_l("Yes, I can no longer take part"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.validate_choice = False  # "" (not saying) is a choice too; one_of_or_empty checks


CHECK_IN_ANSWERS = [("yes", _l("Yes, we met")), ("moved", _l("We moved it to another time")),
                    ("no", _l("No, we did not meet"))]


class CheckInForm(LabForm):
    """"Did you meet?" after a follow-up meeting: one button per answer."""
    answer = RadioField(_l("Did you meet?"), choices=choices(CHECK_IN_ANSWERS))
