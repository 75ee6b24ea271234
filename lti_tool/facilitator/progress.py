"""Facilitator: completion table with gradebook sync status, and the reflections shared with them."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..auth import role_required
from ..extensions import db
from ..lti.roles import FACILITATOR
from ..models import Participant, Reflection
from ..services import curriculum as cur
from ..services.cohorts import cohort_in_course
from ..services.grades import schedule_for_participant, syncs_for_cohort
from ..services.progress import progress_for
from ..services.visibility import AS_FACILITATOR, visible_answers
from . import bp


def _people(cohort):
    return db.session.execute(db.select(Participant).where(Participant.cohort_id == cohort.id)
                              .order_by(Participant.id)).scalars().all()


@bp.get("/cohorts/<int:cohort_id>/progress")
@role_required(FACILITATOR)
def progress(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    people = _people(cohort)
    return render_template("facilitator/progress.html", cohort=cohort, people=people,
                           progress=progress_for(people), syncs=syncs_for_cohort(cohort), form=FlaskForm())


@bp.post("/cohorts/<int:cohort_id>/progress/resend")
@role_required(FACILITATOR)
def progress_resend(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    if not FlaskForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
    else:
        for pid, sync in syncs_for_cohort(cohort).items():
            if sync.status == "failed":
                schedule_for_participant(pid)
        flash(_("Failed gradebook updates were sent again."), "success")
    return redirect(url_for("facilitator.progress", cohort_id=cohort.id), code=303)


@bp.get("/cohorts/<int:cohort_id>/reflections")
@role_required(FACILITATOR)
def shared_reflections(cohort_id: int):
    """Answers learners shared with the facilitator (never "only me" answers, never drafts)."""
    cohort = cohort_in_course(cohort_id)
    people = {p.id: p for p in _people(cohort)}
    rows = db.session.execute(db.select(Reflection).where(Reflection.cohort_id == cohort.id,
                                                          Reflection.status == "submitted")
                              .order_by(Reflection.participant_id)).scalars().all()
    halves = {r.id: (i, r) for i, r in enumerate(cur.half_day_reflections())}  # earlier per-session ones were copied in
    rows = sorted((r for r in rows if r.session_id in halves), key=lambda r: (r.participant_id, halves[r.session_id][0]))
    shown = [(people.get(r.participant_id), halves[r.session_id][1], visible_answers(r, AS_FACILITATOR))
             for r in rows]
    return render_template("facilitator/shared_reflections.html", cohort=cohort,
                           shown=[s for s in shown if s[0] and s[1] and s[2]])
