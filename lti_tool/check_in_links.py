"""Answering "Did you meet?" from the emailed link: ``/check-in/<token>``, no LTI session needed.

The signed, expiring token names one check-in (``services.check_ins.from_token``). GET shows the
question and only reads; POST (with a CSRF token) records that one answer and nothing else.
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from .learner.forms import CheckInForm
from .models import Cohort
from .extensions import db
from .services import check_ins

bp = Blueprint("check_in", __name__, url_prefix="/check-in")


def _page(row, form, status=200, done=False):
    cohort = db.session.get(Cohort, row.cohort_id)
    when = check_ins.local_start(row, cohort)
    return render_template("check_in/answer.html", row=row, cohort=cohort, when=when, form=form,
                           done=done), status


def _check_in(token: str):
    try:
        return check_ins.from_token(token)
    except check_ins.LinkError as e:
        return render_template("check_in/link_error.html", reason=e.reason), 410 if e.reason == "expired" else 404


@bp.get("/<token>")
def answer_by_link(token: str):
    row = _check_in(token)
    if isinstance(row, tuple):
        return row
    return _page(row, CheckInForm(formdata=None, answer=row.answer))


@bp.post("/<token>")
def record_by_link(token: str):
    row = _check_in(token)
    if isinstance(row, tuple):
        return row
    form = CheckInForm()
    if not form.validate():
        if "csrf_token" in form.errors:
            return _page(row, form, 400)
        abort(400)
    check_ins.answer(row, form.answer.data)
    return _page(row, form, done=True)
