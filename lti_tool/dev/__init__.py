"""The built-in development platform (only with LTI_DEV_PLATFORM=1, refused in production).

It plays an LMS: its own key pair, registered like any other platform, an authorization
endpoint that signs id_tokens, and a page at /dev/ to launch as any demo user. Launches go
through the tool's real OIDC login and signature checks.
"""
from flask import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")

from . import routes  # noqa: E402,F401
