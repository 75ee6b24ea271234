"""One clear next step per cohort for the learner's home page, worked out from what is already known
(intake, teams, dates, reflections): nothing is stored, and a GET stays a read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import url_for
from flask_babel import gettext as _

from ..services import reflections as svc


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
    if me.status == "withdrawn":
        return None
    if not published:
        if not me.intake_submitted_at:
            return Step(_("Fill in your intake") if not me.intake_updated_at else _("Finish your intake"),
                        _("A few minutes: what you can offer, what you want to learn and when you are free. "
                          "Your answers are saved as you go."),
                        url_for("learner.intake_page", cohort_id=cohort.id),
                        _("Fill in your intake") if not me.intake_updated_at else _("Continue your intake"))
        return Step(_("Wait for the pairs to be formed"),
                    _("Your facilitator forms the pairs and you will get an email. Meanwhile, you can see who "
                      "else takes part and ask for partners."),
                    url_for("learner.people", cohort_id=cohort.id), _("Browse people and request partners"))
    if team is None:
        return Step(_("Your facilitator will be in touch"),
                    _("Teams are published, and you are not in one yet. Your facilitator will contact you."))
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
