"""Facilitator pages (blueprint ``facilitator``)."""
from flask import Blueprint

bp = Blueprint("facilitator", __name__, url_prefix="/facilitator")

from . import routes  # noqa: E402,F401
from . import progress  # noqa: E402,F401
from . import lab  # noqa: E402,F401
from . import waiting  # noqa: E402,F401
from . import pages  # noqa: E402,F401
from . import check_ins  # noqa: E402,F401
