from flask import g, render_template

from ..auth import role_required
from ..lti.roles import LEARNER
from ..services.courses import cohorts_of_learner
from . import bp


@bp.get("/")
@role_required(LEARNER)
def home():
    """The learner's landing page: the course, the person and their cohorts."""
    return render_template("learner/home.html", cohorts=cohorts_of_learner(g.lti.course, g.lti.user.id))
