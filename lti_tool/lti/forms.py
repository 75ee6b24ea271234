"""Forms of the LTI area."""
from flask_babel import lazy_gettext as _l
from ..forms import LabForm
from wtforms import EmailField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional


class ProfileForm(LabForm):
    display_name = StringField(_l("Your name, as other participants will see it"),
                               validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email for calendar invites"), validators=[DataRequired(), Email(), Length(max=320)])
    next = HiddenField()
    submit = SubmitField(_l("Save and continue"))


class DeepLinkForm(LabForm):
    title = StringField(_l("Title shown in the course"), validators=[DataRequired(), Length(max=200)],
                        default="Reciprocal Mentoring Lab")
    text = TextAreaField(_l("Short description (optional)"), validators=[Optional(), Length(max=1000)])
    cohort = StringField(_l("Cohort name"), validators=[DataRequired(), Length(max=100)],
                         description=_l("Learners who open this link join this cohort; it is created if it does not exist yet."))
    submit = SubmitField(_l("Add to course"))


class RegisterForm(LabForm):
    openid_configuration = HiddenField(validators=[DataRequired()])
    registration_token = HiddenField()
    submit = SubmitField(_l("Register the tool"))
