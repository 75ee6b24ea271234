"""One clear next step per cohort for the learner's home page, worked out from what is already known
(intake, teams, dates, reflections): nothing is stored, and a GET stays a read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import url_for
from flask_babel import gettext as _

from ..services import waiting
from ..services import reflections as svc
from ..states import ParticipantStatus


@dataclass
class Step:
    title: str
    text: str
    url: str | None = None
    label: str | None = None


def cohort_today(cohort) -> date:
    try:
        return datetime.now(ZoneInfo(cohort.timezone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        return datetime.now(ZoneInfo("UTC")).date()


def next_step(cohort, me, team, published: bool, progress, partners) -> Step | None:
    """The one thing to do now, or None for someone who has withdrawn."""
    if me.status == ParticipantStatus.WITHDRAWN:
        return None
    if not published:
        if not me.intake_submitted_at:
            return _intake_step(cohort, me, _("A few minutes: what you can offer, what you want to learn and when "
                                              "you are free. Your answers are saved as you go."))
        return Step(_("Wait for the pairs to be formed"),
                    _("Your facilitator forms the pairs and you will get an email. Meanwhile, you can see who "
                      "else takes part and ask for partners."),
                    url_for("learner.people", cohort_id=cohort.id), _("Browse people and request partners"))
    if team is None:
        return _waiting_step(cohort, me)
    names = ", ".join(p.user.name for p in partners)
    if cohort.day_one is None:
        return Step(_("Say hello to %(names)s", names=names),
                    _("A short introductory call before the lab helps you both start well: what each of you "
                      "hopes to learn, and how you like to work."))
    today = cohort_today(cohort)
    if today < cohort.day_one:
        return Step(_("Meet %(names)s at the lab", names=names),
                    _("The lab starts on %(date)s. Add it to your calendar so you do not miss it.",
                      date=cohort.day_one.isoformat()),
                    url_for("learner.my_calendar", cohort_id=cohort.id), _("Add the lab to my calendar (.ics)"))
    todo = {item.key for item in progress.items if not item.done} if progress else set()
    for reflection in svc.open_reflections(cohort):
        if f"reflection:{reflection.id}" in todo:
            return Step(_("Write your reflection"),
                        _("A few short questions about “%(half)s”: what you learned and what you both gained.",
                          half=reflection.title),
                        url_for("learner.reflection", cohort_id=cohort.id, session_id=reflection.id),
                        _("Write your reflection"))
    return Step(_("Keep meeting %(names)s", names=names),
                _("Your reflections so far are done. Your follow-up meetings are in your calendar."))


def _waiting_step(cohort, me) -> Step:
    """Teams are out and the learner is in none: a late joiner fills in the intake, then waits (as does
    someone whose partner left); the facilitator pairs them and they get an email."""
    if not me.intake_submitted_at:
        return _intake_step(cohort, me, _("Teams for this cohort are already published. Fill in your intake: you "
                                          "then go onto the waiting list, and your facilitator pairs you with "
                                          "someone."))
    if waiting.partner_left(me):
        return Step(_("Your partner has left the lab"),
                    _("Your pair has ended and you are on the waiting list. Your facilitator will pair you with "
                      "someone new, and you will get an email with your new partner's name. You do not need to "
                      "do anything until then."))
    return Step(_("You're on the waiting list"),
                _("You're on the waiting list; your facilitator will pair you with someone, and you will get an "
                  "email with your partner's name. You do not need to do anything until then."))


def _intake_step(cohort, me, text: str) -> Step:
    started = me.intake_updated_at is not None
    return Step(_("Finish your intake") if started else _("Fill in your intake"), text,
                url_for("learner.intake_page", cohort_id=cohort.id),
                _("Continue your intake") if started else _("Fill in your intake"))
