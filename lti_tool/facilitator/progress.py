"""Facilitator: completion table with gradebook sync status, and the reflections shared with them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from ..forms import LabForm
from sqlalchemy.orm import selectinload

from ..auth import role_required
from ..downloads import csv_lines, download
from ..extensions import db
from ..lti.roles import FACILITATOR
from ..models import Participant, Reflection
from ..services import audit, outbox
from ..services import curriculum as cur
from ..services import progress as progress_service
from ..services.cohorts import cohort_in_course
from ..services.grades import received, schedule_for_participant, syncs_for_cohort
from ..services.visibility import AS_FACILITATOR, visible_answers
from . import bp
from ..states import ReflectionStatus

STATUS_WORDS = {"behind": _l("behind"), "on_track": _l("on track"), "not_started": _l("not started"),
                "done": _l("done")}


def _people(cohort):
    return db.session.execute(db.select(Participant).where(Participant.cohort_id == cohort.id)
                              .options(selectinload(Participant.user))  # names in the table: one query, not one each
                              .order_by(Participant.id)).scalars().all()


@bp.get("/cohorts/<int:cohort_id>/progress")
@role_required(FACILITATOR)
def progress(cohort_id: int):
    """Status per learner (filterable), what is still to do, and what the LMS gradebook received."""
    cohort = cohort_in_course(cohort_id)
    rows = progress_service.learner_rows(cohort)
    show = request.args.get("show", "")
    shown = [r for r in rows if r.status == show] if show in progress_service.STATUSES else rows
    return render_template("facilitator/progress.html", cohort=cohort, rows=shown, every=rows, show=show,
                           counts=progress_service.counts(rows), syncs=syncs_for_cohort(cohort), form=LabForm(),
                           reminders=sum(1 for r in rows if r.needs_reminder))


@bp.get("/cohorts/<int:cohort_id>/progress.csv")
@role_required(FACILITATOR)
def progress_csv(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    audit.record("export", cohort=cohort, details={"what": "progress"})
    rows = progress_service.learner_rows(cohort)
    syncs = syncs_for_cohort(cohort)
    got = {r.participant.id: received(syncs.get(r.participant.id)) for r in rows}
    columns, lines = progress_service.csv_table(rows, got, STATUS_WORDS)
    return download(csv_lines(columns, lines), f"{cohort.slug}-progress.csv", "text/csv")


@bp.route("/cohorts/<int:cohort_id>/progress/remind", methods=["GET", "POST"])
@role_required(FACILITATOR)
def progress_remind(cohort_id: int):
    """A reminder to everyone with something due and not done: GET shows who and what, POST sends."""
    cohort = cohort_in_course(cohort_id)
    form = LabForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        queued, skipped = progress_service.remind_behind(cohort)
        outbox.deliver_later(cohort)
        flash(_("Reminders: %(queued)s written, %(skipped)s skipped (reminded in the last day or no email address).",
                queued=queued, skipped=skipped), "success")
        return redirect(url_for("facilitator.progress", cohort_id=cohort.id), code=303)
    rows = [r for r in progress_service.learner_rows(cohort) if r.needs_reminder]
    example = outbox.render(progress_service.REMINDER_KIND, outbox.recipient_locale(rows[0].participant.user),
                            cohort=cohort, **progress_service.reminder_mail(rows[0], cohort)) if rows else None
    return render_template("facilitator/progress_remind.html", cohort=cohort, rows=rows, example=example, form=form)


@bp.post("/cohorts/<int:cohort_id>/progress/send")
@role_required(FACILITATOR)
def progress_send(cohort_id: int):
    """Send every learner's score to the LMS gradebook now (unchanged scores are not sent twice)."""
    cohort = cohort_in_course(cohort_id)
    if not LabForm().validate_on_submit():
        abort(400)
    rows = progress_service.learner_rows(cohort)
    if sum(schedule_for_participant(row.participant.id) for row in rows):
        flash(_("Scores for %(n)s learners sent to the gradebook; the table shows what it received.", n=len(rows)),
              "success")
    else:
        flash(_("Nothing to send: the LMS did not offer a gradebook column for this lab (no Assignment and Grade "
                "Services in its launch)."), "error")
    return redirect(url_for("facilitator.progress", cohort_id=cohort.id), code=303)


@bp.post("/cohorts/<int:cohort_id>/progress/resend")
@role_required(FACILITATOR)
def progress_resend(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    if not LabForm().validate_on_submit():
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
                                                          Reflection.status == ReflectionStatus.SUBMITTED)
                              .order_by(Reflection.participant_id)).scalars().all()
    halves = {r.id: (i, r) for i, r in enumerate(cur.half_day_reflections())}  # earlier per-session ones were copied in
    rows = sorted((r for r in rows if r.session_id in halves), key=lambda r: (r.participant_id, halves[r.session_id][0]))
    shown = [(people.get(r.participant_id), halves[r.session_id][1], visible_answers(r, AS_FACILITATOR))
             for r in rows]
    return render_template("facilitator/shared_reflections.html", cohort=cohort,
                           shown=[s for s in shown if s[0] and s[1] and s[2]])
