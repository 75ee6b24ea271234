"""Facilitator views for people waiting for a partner: pair two of them, or add one to a pair as a
third member, after a preview of what each person receives (services.waiting)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import role_required
from ..lti.roles import FACILITATOR
from ..services import audit, waiting
from ..services.cohorts import cohort_in_course
from . import bp
from .forms import ActionForm


def _chosen(cohort, person_id: int, values) -> waiting.HandTeam:
    """The team the form names (``partner`` or ``team``), judged; 404 for anyone not on the lists."""
    try:
        partner = int(values["partner"]) if values.get("partner") else None
        team = int(values["team"]) if values.get("team") else None
    except ValueError:
        abort(400)
    if (partner is None) == (team is None):
        abort(400)
    try:
        return waiting.choose(cohort, person_id, partner_id=partner, team_id=team)
    except waiting.NotWaiting:
        abort(404)


def _names(chosen: waiting.HandTeam) -> str:
    return ", ".join(p.user.name or _("(no name yet)") for p in chosen.members)


@bp.get("/cohorts/<int:cohort_id>/waiting/<int:person_id>/preview")
@role_required(FACILITATOR)
def waiting_preview(cohort_id: int, person_id: int):
    """Read only: the team chosen, what the rules say about it, and what each member would receive."""
    cohort = cohort_in_course(cohort_id)
    chosen = _chosen(cohort, person_id, request.args)
    return render_template("facilitator/waiting_preview.html", cohort=cohort, chosen=chosen, names=_names(chosen),
                           person_id=person_id, values={k: request.args.get(k, "") for k in ("partner", "team")},
                           preview=None if chosen.refused else waiting.preview(cohort, chosen), action=ActionForm())


@bp.post("/cohorts/<int:cohort_id>/waiting/<int:person_id>/team")
@role_required(FACILITATOR)
def waiting_team(cohort_id: int, person_id: int):
    """Confirmed: form the team, tell its members and send the invites."""
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    chosen = _chosen(cohort, person_id, request.form)
    back = url_for("facilitator.cohort", cohort_id=cohort.id, _anchor="waiting-h")
    if chosen.refused:
        flash(chosen.refused, "error")
        return redirect(back, code=303)
    team, queued = waiting.form(cohort, chosen)
    audit.record("hand_team", cohort=cohort, details={"team": team.id, "members": len(team.member_ids),
                                                      "flags": len(chosen.flags)})
    flash(_("%(names)s are now a team. They have been told by email and see each other on their home page.",
            names=_names(chosen)), "success")
    if queued:
        flash(_("%(n)s calendar invites and updates are on their way.", n=queued), "success")
    return redirect(back, code=303)
