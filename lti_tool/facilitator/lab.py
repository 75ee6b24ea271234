"""Facilitator during the lab: run-of-show with a timer, attendance per session, kit downloads, reminders."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..downloads import download
from ..auth import role_required
from ..lti.roles import FACILITATOR
from ..services import outbox, lab_day
from ..services.cohorts import cohort_in_course
from ..services.intake import cohort_roster
from lab_curriculum.kit import DOCUMENTS, stylesheet
from . import bp
from .forms import ActionForm


@bp.get("/cohorts/<int:cohort_id>/run-of-show")
@role_required(FACILITATOR)
def run_of_show(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    sessions = lab_day.scheduled_sessions(cohort)
    if not sessions:
        flash(_("Set the lab days first: the run-of-show follows the cohort's dates."), "error")
        return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
    current, state = lab_day.current_session(cohort)
    chosen = request.args.get("session")
    shown = lab_day.find_session(cohort, chosen) if chosen else current
    if shown is None:
        abort(404)
    index = sessions.index(shown)
    return render_template("facilitator/run_of_show.html", cohort=cohort, sessions=sessions, shown=shown,
                           current=current, state=state, previous=sessions[index - 1] if index else None,
                           following=sessions[index + 1] if index + 1 < len(sessions) else None)


@bp.route("/cohorts/<int:cohort_id>/attendance/<session_id>", methods=["GET", "POST"])
@role_required(FACILITATOR)
def attendance(cohort_id: int, session_id: str):
    cohort = cohort_in_course(cohort_id)
    shown = lab_day.find_session(cohort, session_id)
    if shown is None or shown.session.is_break:
        abort(404)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("everyone"):
            present = {p.id for p in cohort_roster(cohort)}
        else:
            present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        count = lab_day.record_attendance(cohort, session_id, present)
        flash(_("Attendance saved for %(session)s: %(n)s present.", session=shown.session.title, n=count), "success")
        return redirect(url_for("facilitator.attendance", cohort_id=cohort.id, session_id=session_id), code=303)
    return render_template("facilitator/attendance.html", cohort=cohort, shown=shown, form=form,
                           people=cohort_roster(cohort), marks=lab_day.attendance(cohort, session_id))


@bp.get("/cohorts/<int:cohort_id>/kit/<name>.<fmt>")
@role_required(FACILITATOR)
def kit(cohort_id: int, name: str, fmt: str):
    """One facilitation kit document with this cohort's dates, times and team names."""
    cohort = cohort_in_course(cohort_id)
    if name not in dict(DOCUMENTS) or fmt not in ("html", "pdf"):
        abort(404)
    href = url_for("facilitator.kit_stylesheet") if fmt == "html" else None
    body = lab_day.kit_document(cohort, name, fmt, stylesheet_href=href)
    return download(body, f"{cohort.slug}-{name}.{fmt}", "application/pdf" if fmt == "pdf" else "text/html",
                    inline=fmt == "html")


@bp.get("/kit/kit.css")
@role_required(FACILITATOR)
def kit_stylesheet():
    """The kit's style sheet, linked from the kit's web pages (the app's CSP blocks inline styles)."""
    return Response(stylesheet(), mimetype="text/css")


@bp.post("/cohorts/<int:cohort_id>/remind")
@role_required(FACILITATOR)
def remind(cohort_id: int):
    """Email everyone enrolled who has not submitted their profile (at most once a day each)."""
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    queued, skipped = lab_day.remind_intake(cohort)
    job = outbox.deliver_later(cohort)
    flash(_("Reminders: %(queued)s written, %(skipped)s skipped (reminded in the last day or no email address). "
            "See the messages below for their delivery.", queued=queued, skipped=skipped)
          + (" " + _("They are being sent in the background.") if job else ""), "success")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)
