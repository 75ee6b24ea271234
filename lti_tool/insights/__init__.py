"""L&D insights across the deployment (blueprint ``insights``)."""
from flask import Blueprint

bp = Blueprint("insights", __name__, url_prefix="/insights")

from . import audit, routes  # noqa: E402,F401
