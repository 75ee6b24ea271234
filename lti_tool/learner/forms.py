"""The learner's intake form."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..services.intake import VISIBLE_FIELD_CHOICES, all_skills, slot_names


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


GENDER_LABELS = {"woman": _l("Woman"), "man": _l("Man"), "non-binary": _l("Non-binary"),
                 "self-described": _l("I describe myself as…"), "undisclosed": _l("Prefer not to say")}
LEVEL_LABELS = {"1": _l("1 – early career"), "2": _l("2 – experienced"), "3": _l("3 – senior specialist or team lead"),
                "4": _l("4 – manager of managers"), "5": _l("5 – executive")}
FIELD_LABELS = {"department": _l("Department"), "location": _l("Location"), "level": _l("Level"),
                "offers": _l("What I can offer"), "wants": _l("What I want to learn"), "goals": _l("Goals")}


class IntakeForm(FlaskForm):
    gender = RadioField(_l("Gender identity"), choices=[SelectChoice(k, v) for k, v in GENDER_LABELS.items()],
                        validators=[Optional()])
    gender_self_described = StringField(_l("In your own words (optional)"), validators=[Optional(), Length(max=100)])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=200)])
    location = StringField(_l("Location (city or site)"), validators=[Optional(), Length(max=200)])
    timezone = SelectField(_l("Your time zone"), choices=[SelectChoice(z) for z in sorted(available_timezones())],
                           validators=[Optional()])
    level = RadioField(_l("Level"), choices=[SelectChoice(k, v) for k, v in LEVEL_LABELS.items()], validators=[Optional()])
    manager = SelectField(_l("Your manager, if they are in this cohort"), validators=[Optional()], coerce=str)
    manager_name = StringField(_l("Or your manager's name"), validators=[Optional(), Length(max=200)],
                               description=_l("So that you are never paired with your manager or a direct report."))
    offers = MultiCheckboxField(_l("What I can offer"), validators=[Optional()])
    offers_other = StringField(_l("Other things I can offer (separate with commas)"), validators=[Optional(), Length(max=500)])
    wants = MultiCheckboxField(_l("What I want to learn"), validators=[Optional()])
    wants_other = StringField(_l("Other things I want to learn (separate with commas)"), validators=[Optional(), Length(max=500)])
    goals = TextAreaField(_l("My goals for the lab"), validators=[Optional(), Length(max=2000)])
    availability = MultiCheckboxField(_l("When I am free for follow-up meetings"), validators=[Optional()])
    visible_fields = MultiCheckboxField(_l("Other participants may see"), validators=[Optional()],
                                        choices=[SelectChoice(k, FIELD_LABELS[k]) for k in VISIBLE_FIELD_CHOICES],
                                        description=_l("Your name is always shown. Gender is never shown to other participants."))
    consent = BooleanField(_l("I agree that the lab uses this profile to match me with a partner"))
    save_draft = SubmitField(_l("Save draft"))
    submit_intake = SubmitField(_l("Submit my profile"))

    def __init__(self, *args, roster: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        skills = [SelectChoice(s) for s in all_skills()]
        self.offers.choices = skills
        self.wants.choices = list(skills)
        self.availability.choices = [SelectChoice(s) for s in slot_names()]
        self.manager.choices = [SelectChoice("", _l("Not in this cohort / not listed"))] + [
            SelectChoice(value, label) for value, label in roster]

    def check_complete(self) -> bool:
        """The rules for submitting (a draft may be incomplete)."""
        ok = True
        required = {"gender": self.gender, "department": self.department, "location": self.location,
                    "timezone": self.timezone, "level": self.level}
        for field in required.values():
            if not field.data:
                field.errors = [*field.errors, _l("Please answer this before submitting.")]
                ok = False
        if not self.offers.data and not (self.offers_other.data or "").strip():
            self.offers.errors = [*self.offers.errors, _l("Choose or write at least one thing you can offer.")]
            ok = False
        if not self.wants.data and not (self.wants_other.data or "").strip():
            self.wants.errors = [*self.wants.errors, _l("Choose or write at least one thing you want to learn.")]
            ok = False
        if not self.availability.data:
            self.availability.errors = [*self.availability.errors, _l("Mark at least one free hour.")]
            ok = False
        if not self.consent.data:
            self.consent.errors = [*self.consent.errors, _l("We can only match you with your agreement.")]
            ok = False
        return ok

    def values(self) -> dict:
        return {
            "gender": self.gender.data or None, "gender_self_described": (self.gender_self_described.data or "").strip() or None,
            "department": (self.department.data or "").strip() or None, "location": (self.location.data or "").strip() or None,
            "timezone": self.timezone.data or None, "level": int(self.level.data) if self.level.data else None,
            "manager_participant_id": int(self.manager.data) if self.manager.data else None,
            "manager_name": (self.manager_name.data or "").strip() or None,
            "offers": list(self.offers.data or []), "wants": list(self.wants.data or []),
            "offers_other": (self.offers_other.data or "").strip() or None,
            "wants_other": (self.wants_other.data or "").strip() or None,
            "goals": (self.goals.data or "").strip() or None, "availability": list(self.availability.data or []),
            "consent": bool(self.consent.data), "visible_fields": list(self.visible_fields.data or []),
        }

    def load(self, p) -> None:
        self.gender.data, self.gender_self_described.data = p.gender, p.gender_self_described
        self.department.data, self.location.data = p.department, p.location
        self.timezone.data = p.timezone or p.cohort.timezone
        self.level.data = str(p.level) if p.level else None
        self.manager.data = str(p.manager_participant_id) if p.manager_participant_id else ""
        self.manager_name.data = p.manager_name
        self.offers.data, self.wants.data = list(p.offers or []), list(p.wants or [])
        self.offers_other.data, self.wants_other.data, self.goals.data = p.offers_other, p.wants_other, p.goals
        self.availability.data, self.visible_fields.data = list(p.availability or []), list(p.visible_fields or [])
        self.consent.data = p.consent
