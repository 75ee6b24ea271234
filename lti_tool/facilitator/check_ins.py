"""Facilitator: are follow-up meetings happening? Check-in answers per team, lapsed teams, a nudge."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..auth import role_required
from ..lti.roles import FACILITATOR
from ..services import check_ins, withdrawal
from ..services.cohorts import cohort_in_course
from ..services.insights import min_group
from . import bp
from .forms import ActionForm


@bp.get("/cohorts/<int:cohort_id>/check-ins")
@role_required(FACILITATOR)
def check_in_overview(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    status = sorted(check_ins.team_status(cohort), key=lambda t: (not t.lapsed, t.names))
    reasons = check_ins.withdrawal_reasons([cohort.id])
    return render_template("facilitator/check_ins.html", cohort=cohort, teams=status,
                           counts=check_ins.cohort_counts([cohort.id])[cohort.id], reasons=reasons, reason_labels=withdrawal.REASONS,
                           reasons_given=sum(reasons.values()), min_group=min_group(),
                           lapsed_after=check_ins.LAPSED_AFTER)


@bp.route("/cohorts/<int:cohort_id>/check-ins/<int:team_id>/nudge", methods=["GET", "POST"])
@role_required(FACILITATOR)
def check_in_nudge(cohort_id: int, team_id: int):
    """Email a lapsed team a nudge to meet again: a preview first, sent on confirmation."""
    cohort = cohort_in_course(cohort_id)
    team = check_ins.team_in_cohort(cohort, team_id)
    if team is None:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        sent = check_ins.nudge(team)
        flash(_("Nudge sent to %(n)s people.", n=sent), "success")
        return redirect(url_for("facilitator.check_in_overview", cohort_id=cohort.id), code=303)
    return render_template("facilitator/check_in_nudge.html", cohort=cohort, action=form,
                           preview=check_ins.nudge_preview(team),
                           names=next(t.names for t in check_ins.team_status(cohort) if t.team.id == team.id))
