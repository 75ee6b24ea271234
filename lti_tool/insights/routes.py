from flask import current_app, g, render_template

from ..auth import role_required
from ..lti.roles import LND
from ..services.courses import cohorts_in_deployment
from . import bp


@bp.get("/")
@role_required(LND)
def home():
    """L&D landing page: cohorts across the deployment (sizes only; no individuals)."""
    return render_template("insights/home.html", rows=cohorts_in_deployment(g.lti.course),
                           min_group=current_app.config["MIN_GROUP_SIZE"])
