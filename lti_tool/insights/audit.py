"""The audit log for L&D administrators of the deployment: read it, download it (facilitators cannot)."""
from __future__ import annotations

from datetime import date

from flask import g, render_template, request

from ..downloads import download
from ..auth import role_required
from ..lti.roles import LND
from ..services import audit
from . import bp

PAGE_SIZE = 500


def _action() -> str | None:
    action = request.args.get("action") or None
    return action if action in audit.ACTIONS else None


@bp.get("/audit")
@role_required(LND)
def audit_log():
    """What facilitators, L&D and the command line did with people's data in this deployment."""
    action = _action()
    rows = audit.entries(g.lti.course.deployment_id, action=action, limit=PAGE_SIZE)
    return render_template("insights/audit.html", rows=rows, actions=audit.ACTIONS, action=action,
                           page_size=PAGE_SIZE)


@bp.get("/audit.csv")
@role_required(LND)
def audit_csv():
    action = _action()
    deployment_id = g.lti.course.deployment_id
    count, newest = audit.extent(deployment_id, action=action)  # this export's own entry comes after: not in it
    audit.record("audit_export", details={"rows": count, "action": action})
    rows = audit.iter_entries(deployment_id, action=action, up_to_id=newest)
    return download(audit.csv_chunks(rows), f"lab-audit-log-{date.today().isoformat()}.csv", "text/csv")
