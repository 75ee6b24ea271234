"""LTI 1.3 endpoints: OIDC login, launch, JWKS, deep linking, registration (blueprint ``lti``)."""
from flask import Blueprint

bp = Blueprint("lti", __name__, url_prefix="/lti")

from . import routes  # noqa: E402,F401
