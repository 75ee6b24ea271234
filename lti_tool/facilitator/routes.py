from flask import g, render_template

from ..auth import role_required
from ..lti.roles import FACILITATOR
from ..services.courses import cohorts_in_course
from . import bp


@bp.get("/")
@role_required(FACILITATOR)
def home():
    """The facilitator's landing page: the course's cohorts with their sizes."""
    return render_template("facilitator/home.html", cohorts=cohorts_in_course(g.lti.course))
