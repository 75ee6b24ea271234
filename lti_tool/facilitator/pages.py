"""Facilitator: the published teams (search, CSV export) and the cohort's messages in full."""
from __future__ import annotations

from flask import render_template, request

from ..auth import role_required
from ..downloads import csv_lines, download
from ..lti.roles import FACILITATOR
from ..services import audit, outbox, team_list
from ..services.cohorts import cohort_in_course
from . import bp
from .forms import ActionForm


@bp.get("/cohorts/<int:cohort_id>/teams")
@role_required(FACILITATOR)
def teams(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    query = request.args.get("q", "")[:200]
    every = team_list.published_teams(cohort)
    return render_template("facilitator/teams.html", cohort=cohort, query=query, rows=team_list.search(every, query),
                           total=len(every), bands=team_list.BANDS)


@bp.get("/cohorts/<int:cohort_id>/teams.csv")
@role_required(FACILITATOR)
def teams_csv(cohort_id: int):
    cohort = cohort_in_course(cohort_id)
    audit.record("export", cohort=cohort, details={"what": "teams"})
    return download(csv_lines(team_list.CSV_COLUMNS, team_list.csv_rows(cohort)), f"{cohort.slug}-teams.csv", "text/csv")


@bp.get("/cohorts/<int:cohort_id>/messages")
@role_required(FACILITATOR)
def messages(cohort_id: int):
    """Every message of the cohort, newest first (or one status), with its error, download and retry."""
    cohort = cohort_in_course(cohort_id)
    status = request.args.get("status") or None
    return render_template("facilitator/messages.html", cohort=cohort, status=status, mail=outbox.summary(cohort),
                           messages=outbox.messages(cohort, status), status_label=outbox.status_label,
                           action=ActionForm())
