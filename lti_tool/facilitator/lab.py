"""Facilitator during the lab: run-of-show with a timer, attendance per half-day (or session) with undo, kit downloads, reminders."""
from __future__ import annotations

from datetime import datetime, timezone

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


def _lab_days_first(cohort, message: str):
    """Back to the cohort page, saying why: this page follows the cohort's lab dates, which are not set."""
    flash(message, "error")
    return redirect(url_for("facilitator.cohort", cohort_id=cohort.id), code=303)


@bp.get("/cohorts/<int:cohort_id>/run-of-show")
@role_required(FACILITATOR)
def run_of_show(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    sessions = lab_day.scheduled_sessions(cohort)
    if not sessions:
        return _lab_days_first(cohort, _("Set the lab days first: the run-of-show follows the cohort's dates."))
    current, state = lab_day.current_session(cohort)
    chosen = request.args.get("session")
    shown = lab_day.find_session(cohort, chosen) if chosen else current
    if shown is None:
        abort(404)
    index = sessions.index(shown)
    return render_template("facilitator/run_of_show.html", cohort=cohort, sessions=sessions, shown=shown,
                           current=current, state=state, previous=sessions[index - 1] if index else None,
                           following=sessions[index + 1] if index + 1 < len(sessions) else None)


@bp.get("/cohorts/<int:cohort_id>/attendance")
@role_required(FACILITATOR)
def attendance_overview(cohort_id: int):
    """The half-days to take attendance for, how many are recorded, and the last change to undo."""
    cohort = cohort_in_course(cohort_id)
    blocks = lab_day.half_days(cohort)
    if not blocks:
        return _lab_days_first(cohort, _("Set the lab days first: attendance follows the cohort's dates."))
    now = datetime.now(timezone.utc)
    rows = [{"block": b, "key": lab_day.half_day_key(b), "started": b.start <= now,
             "marks": lab_day.half_day_marks(cohort, b)} for b in blocks]
    return render_template("facilitator/attendance_overview.html", cohort=cohort, rows=rows,
                           enrolled=len(cohort_roster(cohort)), form=ActionForm())


def _attendance_form(cohort, sessions: list, label: str, here: str, marks, one_session=None):
    """One attendance form (a half-day or one session): GET shows it, POST records or says why not."""
    if request.method == "GET":
        start, end = sessions[0].start, sessions[-1].end
        return render_template("facilitator/attendance.html", cohort=cohort, label=label, start=start, end=end,
                               sessions=sessions, form=ActionForm(), started=start <= datetime.now(timezone.utc),
                               people=cohort_roster(cohort), marks=marks(), one_session=one_session)
    if not ActionForm().validate_on_submit():
        abort(400)
    everyone = bool(request.form.get("everyone"))
    present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
    try:
        count = lab_day.take_attendance(cohort, sessions, present, label, only_unmarked=everyone)
    except lab_day.AttendanceRefused as refused:
        flash(str(refused), "error")
        return redirect(here, code=303)
    if everyone:
        flash(_("%(label)s: %(n)s more marked present; marks already taken were kept.", label=label, n=count),
              "success")
    else:
        flash(_("Attendance saved for %(session)s: %(n)s present.", session=label, n=count), "success")
    return redirect(here, code=303)


@bp.route("/cohorts/<int:cohort_id>/attendance/half-day/<key>", methods=["GET", "POST"])
@role_required(FACILITATOR)
def attendance_half_day(cohort_id: int, key: str):
    cohort = cohort_in_course(cohort_id)
    block = lab_day.find_half_day(cohort, key)
    if block is None:
        abort(404)
    return _attendance_form(cohort, list(block.sessions), half_day_label(block),
                            url_for("facilitator.attendance_half_day", cohort_id=cohort.id, key=key),
                            lambda: lab_day.half_day_marks(cohort, block))


@bp.route("/cohorts/<int:cohort_id>/attendance/<session_id>", methods=["GET", "POST"])
@role_required(FACILITATOR)
def attendance(cohort_id: int, session_id: str):
    """Per-session detail (optional): the same form for one session."""
    cohort = cohort_in_course(cohort_id)
    shown = lab_day.find_session(cohort, session_id)
    if shown is None or shown.session.is_break:
        abort(404)
    return _attendance_form(cohort, [shown], shown.session.title,
                            url_for("facilitator.attendance", cohort_id=cohort.id, session_id=session_id),
                            lambda: {pid: "present" if present else "absent"
                                     for pid, present in lab_day.attendance(cohort, session_id).items()},
                            one_session=shown)


@bp.post("/cohorts/<int:cohort_id>/attendance/undo")
@role_required(FACILITATOR)
def attendance_undo(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    undone = lab_day.undo_attendance(cohort)
    if undone is None:
        flash(_("There is no attendance change to undo."), "error")
    else:
        flash(_("Undone: the last change to attendance for %(label)s. The earlier marks are back.", label=undone),
              "success")
    return redirect(url_for("facilitator.attendance_overview", cohort_id=cohort.id), code=303)


def half_day_label(block) -> str:
    morning = block.label == "morning"
    return (_("Day %(day)s morning", day=block.day) if morning else _("Day %(day)s afternoon", day=block.day))


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
