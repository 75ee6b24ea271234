"""Learner pages (blueprint ``learner``)."""
from flask import Blueprint

bp = Blueprint("learner", __name__, url_prefix="/learner")

from . import routes  # noqa: E402,F401
from . import reflections  # noqa: E402,F401
