"""Learner views: landing page, intake, and the published team."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import role_required
from ..extensions import db
from ..lti.roles import LEARNER
from ..facilitator.forms import ActionForm
from ..models import CalendarFeed, Cohort, Participant, Team
from ..services.courses import cohorts_of_learner
from ..services import invites
from ..services.intake import HOURS, WEEKDAYS, display_name, save_intake
from . import bp
from .forms import IntakeForm


def my_participation(cohort_id: int) -> Participant:
    """The launched learner's place in a cohort of the launched course, else 404."""
    participant = db.session.execute(
        db.select(Participant).join(Cohort, Cohort.id == Participant.cohort_id)
        .where(Participant.cohort_id == cohort_id, Participant.user_id == g.lti.user.id,
               Cohort.course_id == g.lti.course.id)
    ).scalars().first()
    if participant is None:
        abort(404)
    return participant


def my_team(participant: Participant):
    cohort = participant.cohort
    if not cohort.published_run_id:
        return None, []
    for team in db.session.execute(db.select(Team).where(Team.cohort_id == cohort.id, Team.status == "active")).scalars():
        if participant.id in team.member_ids:
            partners = [db.session.get(Participant, pid) for pid in team.member_ids if pid != participant.id]
            return team, partners
    return None, []


@bp.get("/")
@role_required(LEARNER)
def home():
    """The learner's landing page: the course, the person, their cohorts and next steps."""
    cards = []
    for cohort in cohorts_of_learner(g.lti.course, g.lti.user.id):
        participant = my_participation(cohort.id)
        team, partners = my_team(participant)
        feed = db.session.execute(db.select(CalendarFeed).where(
            CalendarFeed.participant_id == participant.id, CalendarFeed.revoked_at.is_(None))).scalars().first()
        cards.append({"cohort": cohort, "participant": participant, "team": team, "feed": feed,
                      "partners": [(p, display_name(p)) for p in partners]})
    return render_template("learner/home.html", cards=cards, action=ActionForm())


@bp.route("/cohorts/<int:cohort_id>/intake", methods=["GET", "POST"])
@role_required(LEARNER)
def intake(cohort_id: int):
    participant = my_participation(cohort_id)
    roster = [(str(p.id), display_name(p)) for p in db.session.execute(
        db.select(Participant).where(Participant.cohort_id == cohort_id, Participant.id != participant.id)
        .order_by(Participant.id)).scalars()]
    form = IntakeForm(roster=roster)
    locked = participant.cohort.published_run_id is not None
    if request.method == "GET":
        form.load(participant)
    elif locked:
        flash(_("Teams are published, so your profile can no longer change."), "error")
    elif form.validate_on_submit():
        submitting = bool(form.submit_intake.data)
        if submitting and not form.check_complete():
            return render_template("learner/intake.html", form=form, participant=participant, locked=locked,
                                   weekdays=WEEKDAYS, hours=HOURS), 422
        save_intake(participant, form.values(), submit=submitting)
        flash(_("Your profile is submitted. You can still change it until teams are published.") if submitting
              else _("Draft saved."), "success")
        return redirect(url_for("learner.intake", cohort_id=cohort_id), code=303)
    else:
        return render_template("learner/intake.html", form=form, participant=participant, locked=locked,
                               weekdays=WEEKDAYS, hours=HOURS), 422
    return render_template("learner/intake.html", form=form, participant=participant, locked=locked,
                           weekdays=WEEKDAYS, hours=HOURS)


@bp.get("/cohorts/<int:cohort_id>/calendar.ics")
@role_required(LEARNER)
def my_calendar(cohort_id: int):
    """The lab days and my team's follow-up meetings, to import into any calendar."""
    participant = my_participation(cohort_id)
    return Response(invites.calendar_for(participant.cohort, participant), mimetype="text/calendar",
                    headers={"Content-Disposition": "attachment; filename=reciprocal-mentoring-lab.ics"})


@bp.post("/cohorts/<int:cohort_id>/feed")
@role_required(LEARNER)
def my_feed(cohort_id: int):
    """Create (or replace, revoking the old address) my private subscription feed."""
    participant = my_participation(cohort_id)
    invites.feed_for(participant, participant.cohort, rotate=request.form.get("rotate") == "1")
    flash(_("Your private calendar address is ready."), "success")
    return redirect(url_for("learner.home"), code=303)
