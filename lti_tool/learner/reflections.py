"""Learner reflection pages, the mutual learning view and data rights (thin: logic in services)."""
from __future__ import annotations

import json

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..downloads import download
from ..auth import role_required
from ..lti.roles import LEARNER
from ..services import curriculum as cur
from ..services import data_rights, intake
from ..services import reflections as svc
from ..services import teams
from ..services.courses import learner_cohorts
from ..services.visibility import DEFAULTS, LEVELS
from . import bp
from .access import learner_participant_or_404
from ..states import ParticipantStatus


def _half_day_or_404(participant, reflection_id: str):
    """A half-day reflection this learner may write: open now, or already started (the dates may move)."""
    half = cur.half_day(reflection_id)
    if half is None or (half not in svc.open_reflections(participant.cohort)
                        and svc.get_reflection(participant, half.id) is None):
        abort(404)
    return half


@bp.get("/cohorts/<int:cohort_id>/reflections")
@role_required(LEARNER)
def reflections(cohort_id: int):
    participant = learner_participant_or_404(cohort_id)
    mine = svc.reflections_of(participant)
    open_now = svc.open_reflections(participant.cohort)
    shown = [r for r in cur.half_day_reflections() if r in open_now or r.id in mine]
    return render_template("learner/reflections/list.html", cohort=participant.cohort,
                           halves=shown, total=len(cur.half_day_reflections()), mine=mine,
                           earlier=svc.earlier_reflections(participant), editable=svc.is_editable,
                           until=svc.editable_until, team=teams.team_of(participant),
                           published=teams.is_published(participant.cohort))


def _form(participant, session, reflection, *, answers=None, visibility=None, errors=None, status=200):
    return render_template(
        "learner/reflections/form.html", cohort=participant.cohort, session=session, reflection=reflection,
        answers=answers if answers is not None else (reflection.answers if reflection else {}),
        visibility=visibility if visibility is not None else (reflection.visibility if reflection else {}),
        defaults=DEFAULTS, levels=LEVELS, errors=errors or {}, editable=svc.is_editable(reflection),
        until=svc.editable_until(reflection)), status


def _posted():
    answers = {k[2:]: v for k, v in request.form.items() if k.startswith("a-")}
    visibility = {k[2:]: v for k, v in request.form.items() if k.startswith("v-")}
    return answers, visibility


@bp.route("/cohorts/<int:cohort_id>/reflections/<session_id>", methods=["GET", "POST"])
@role_required(LEARNER)
def reflection(cohort_id: int, session_id: str):
    participant = learner_participant_or_404(cohort_id)
    session = _half_day_or_404(participant, session_id)
    current = svc.get_reflection(participant, session.id)
    if request.method == "GET":
        return _form(participant, session, current)
    answers, visibility = _posted()
    submit = request.form.get("action") == "submit"
    try:
        saved, result = svc.save(participant, session, answers, visibility, submit=submit)
    except svc.ReflectionClosed:
        flash(_("This reflection can no longer be changed: its edit window has closed."), "error")
        return _form(participant, session, current, status=409)
    if result.errors:
        return _form(participant, session, saved, answers=answers, visibility=visibility,
                     errors=result.errors, status=422)
    flash(_("Reflection submitted.") if submit else _("Draft saved."), "success")
    return redirect(url_for("learner.reflections", cohort_id=cohort_id), code=303)


@bp.post("/cohorts/<int:cohort_id>/reflections/<session_id>/draft")
@role_required(LEARNER)
def reflection_draft(cohort_id: int, session_id: str):
    """Autosave (JSON, CSRF header). Keeps a submitted reflection submitted while its window is open."""
    participant = learner_participant_or_404(cohort_id)
    session = _half_day_or_404(participant, session_id)
    try:
        answers, visibility = svc.draft_payload(request.get_data(as_text=True))
    except ValueError as e:
        return jsonify(error="bad_request", message=str(e)), 400
    try:
        saved, _result = svc.save(participant, session, answers, visibility, submit=False)
    except svc.ReflectionClosed:
        return jsonify(error="closed"), 409
    return jsonify(status=saved.status, updated_at=saved.updated_at.isoformat(timespec="seconds"))


@bp.get("/cohorts/<int:cohort_id>/team")
@role_required(LEARNER)
def mutual(cohort_id: int):
    participant = learner_participant_or_404(cohort_id)
    team = teams.team_of(participant)
    return render_template("learner/reflections/mutual.html", cohort=participant.cohort, me=participant,
                           members=svc.mutual_view(team) if team else [])


@bp.get("/my-data")
@role_required(LEARNER)
def my_data():
    """"Your data": who sees what and for how long, then everything held about the launched person."""
    mine = [intake.learner_participant(g.lti.course, g.lti.user.id, c.id)
            for c in learner_cohorts(g.lti)]
    enrolled = [p for p in mine if p is not None and p.status != ParticipantStatus.WITHDRAWN]
    return render_template("learner/my_data.html", data=data_rights.export_user(g.lti.user),
                           retention_months=data_rights.retention_months(), intake_fields=intake.VISIBLE_FIELDS,
                           enrolled=[p for p in enrolled if not data_rights.has_ended(p.cohort)],
                           ended=[p for p in enrolled if data_rights.has_ended(p.cohort)])


@bp.get("/my-data.json")
@role_required(LEARNER)
def my_data_json():
    """The same as a JSON file to keep (sections and labels as on the page)."""
    body = json.dumps(data_rights.export_user(g.lti.user), indent=2, ensure_ascii=False, default=str)
    return download(body, "my-mentoring-lab-data.json", "application/json")


@bp.route("/my-data/delete", methods=["GET", "POST"])
@role_required(LEARNER)
def my_data_delete():
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            flash(_("Tick the box to confirm you want your data deleted."), "error")
            return render_template("learner/reflections/delete.html"), 422
        result = data_rights.delete_user_data(g.lti.user)
        return render_template("learner/reflections/deleted.html", result=result)
    return render_template("learner/reflections/delete.html")
