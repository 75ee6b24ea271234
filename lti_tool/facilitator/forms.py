"""Facilitator forms: cohort settings with the matching policy as plain controls, roster upload."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l
from ..forms import LabForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, SubmitField, TimeField,
                     URLField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

COMMON_ZONES = sorted(available_timezones())


class CohortForm(LabForm):
    name = StringField(_l("Cohort name"), validators=[DataRequired(), Length(max=200)])
    day_one = DateField(_l("First lab day"), validators=[DataRequired()])
    day_two = DateField(_l("Second lab day"), validators=[DataRequired()],
                        description=_l("Usually the day after the first."))
    timezone = SelectField(_l("Time zone of the lab"), choices=[SelectChoice(z) for z in COMMON_ZONES],
                           default="Europe/Berlin", validators=[DataRequired()])
    venue = StringField(_l("Venue (room and address)"), validators=[Optional(), Length(max=500)])
    video_link = URLField(_l("Video meeting link"), validators=[Optional(), URL(), Length(max=1000)],
                          description=_l("Give a venue, a video link, or both."))
    capacity = IntegerField(_l("Capacity (participants)"), default=24,
                            validators=[DataRequired(), NumberRange(min=2, max=200)])
    schedule_mode = RadioField(_l("Calendar invites for the lab"), default="blocks", choices=[
        SelectChoice("blocks", _l("One invite per half day (recommended)")), SelectChoice("sessions", _l("One invite per session"))])

    cross_gender = RadioField(_l("Cross-gender pairs"), default="prefer", choices=[
        SelectChoice("require", _l("Required: partners always have different gender identities")),
        SelectChoice("prefer", _l("Preferred: a bonus for different gender identities")),
        SelectChoice("off", _l("Not considered"))])
    undisclosed = RadioField(_l("People who prefer not to say their gender"), default="any", choices=[
        SelectChoice("any", _l("Can be paired with anyone")), SelectChoice("manual", _l("Leave for me to pair by hand"))])
    department = RadioField(_l("Departments"), default="different", choices=[
        SelectChoice("different", _l("Partners from different departments")), SelectChoice("any", _l("Any department"))])
    max_timezone_hours = IntegerField(_l("Largest time-zone difference between partners (hours)"),
                                      validators=[Optional(), NumberRange(min=0, max=24)])
    min_shared_slots = IntegerField(_l("Shared free hours a week needed for follow-up meetings"), default=1,
                                    validators=[Optional(), NumberRange(min=0, max=40)])
    max_level_gap = IntegerField(_l("Largest seniority gap (levels); empty for no limit"),
                                 validators=[Optional(), NumberRange(min=0, max=10)],
                                 description=_l("Reverse mentoring (junior and senior together) is welcome by default."))
    objective = RadioField(_l("What the matcher optimises"), default="balanced", choices=[
        SelectChoice("balanced", _l("Balanced: the most mutual gain overall")),
        SelectChoice("egalitarian", _l("Egalitarian: the best deal for the worst-off team first"))])
    attach_leftovers = BooleanField(_l("Add a leftover person to the team that gains most (trio)"))
    weight_skills = IntegerField(_l("Weight: skills each can teach the other"), default=10,
                                 validators=[NumberRange(min=0, max=10)])
    weight_gender = IntegerField(_l("Weight: different gender identities (when preferred)"), default=5,
                                 validators=[NumberRange(min=0, max=10)])
    weight_department = IntegerField(_l("Weight: different departments"), default=3, validators=[NumberRange(min=0, max=10)])
    weight_location = IntegerField(_l("Weight: different locations"), default=1, validators=[NumberRange(min=0, max=10)])
    weight_requests = IntegerField(_l("Weight: partners who asked for each other"), default=8,
                                   validators=[NumberRange(min=0, max=10)])
    submit = SubmitField(_l("Save cohort"))

    POLICY_FIELDS = ("cross_gender", "undisclosed", "department", "max_timezone_hours", "min_shared_slots",
                     "max_level_gap", "objective", "attach_leftovers")
    WEIGHT_FIELDS = ("skills", "gender", "department", "location", "requests")

    def validate_day_one(self, field):
        if field.data and field.data < date.today() and (self._original_day_one != field.data):
            raise ValidationError(_l("The first lab day is in the past."))

    def validate_day_two(self, field):
        if field.data and self.day_one.data and field.data <= self.day_one.data:
            raise ValidationError(_l("The second lab day must come after the first."))

    def validate_timezone(self, field):
        try:
            ZoneInfo(field.data)
        except Exception as e:
            raise ValidationError(_l("Unknown time zone.")) from e

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Both fields are optional on their own, so this cross-field rule lives here.
        if not (self.video_link.data or "").strip() and not (self.venue.data or "").strip():
            self.video_link.errors = [*self.video_link.errors, _l("Give a venue, a video link, or both.")]
            ok = False
        return ok

    def __init__(self, *args, original_day_one: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._original_day_one = original_day_one

    def policy(self) -> dict:
        policy = {name: getattr(self, name).data for name in self.POLICY_FIELDS}
        policy["weights"] = {name: getattr(self, f"weight_{name}").data for name in self.WEIGHT_FIELDS}
        return policy

    def load_policy(self, policy: dict) -> None:
        for name in self.POLICY_FIELDS:
            if name in policy:
                getattr(self, name).data = policy[name]
        for name, value in (policy.get("weights") or {}).items():
            if hasattr(self, f"weight_{name}"):
                getattr(self, f"weight_{name}").data = value


class RosterUploadForm(LabForm):
    file = FileField(_l("Roster file (CSV)"), validators=[FileRequired(), FileAllowed(["csv"], _l("Upload a .csv file."))],
                     description=_l("Columns: name, email, and optionally department, location. Download the template below."))
    submit = SubmitField(_l("Import roster"))


class ActionForm(LabForm):
    """A CSRF-protected button with no fields (sync, publish, remind, …)."""
    submit = SubmitField()


class FollowUpForm(LabForm):
    """Change one team's follow-up meetings: the weekly time of the whole series, or one meeting."""
    team = SelectField(_l("Team"), coerce=int, validators=[DataRequired()])
    change = RadioField(_l("What to change"), default="move", choices=[
        SelectChoice("move", _l("Move one meeting")), SelectChoice("cancel", _l("Cancel one meeting")),
        SelectChoice("series", _l("Move the whole series to another weekly time"))])
    occurrence = DateField(_l("Date of the meeting to move or cancel"), validators=[Optional()])
    new_date = DateField(_l("New date"), validators=[Optional()], description=_l("Leave empty to keep the same day."))
    new_time = TimeField(_l("New start time"), validators=[Optional()], description=_l("In the lab's time zone."))
    slot = SelectField(_l("Weekly time for the whole series"), validators=[Optional()],
                       description=_l("Both partners must have marked it free in their intake."))
    submit = SubmitField(_l("Change follow-up meetings"))

    NEEDED = {"move": ("occurrence", "new_time"), "cancel": ("occurrence",), "series": ("slot",)}

    def __init__(self, *args, teams=(), slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.team.choices = [SelectChoice(team_id, label) for team_id, label in teams]
        self.slot.choices = [SelectChoice("", _l("Choose a weekly time"))] + [SelectChoice(v, label) for v, label in slots]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name in self.NEEDED.get(self.change.data, ()):
            if not self[name].data and not self[name].errors:
                self[name].errors = [*self[name].errors, _l("Needed for this change.")]
                ok = False
        return ok
