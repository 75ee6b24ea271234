"""The rendered insights page, kept while the deployment's insights version stands.

At enterprise size the page holds a row per cohort (3,000 rows of 7 figures, and charts of them): its figures
are kept already (``services.insights.compute``), but rendering them took ~180 ms of CPU per request. The
HTML depends on nothing else than the figures (the deployment's insights version and ``MIN_GROUP_SIZE``),
the address with its filters, the language, and who is signed in (name, course and roles in the header), so
it is kept under all of these. Never with a flashed message waiting (it is shown once), and never inside
uncommitted changes of what insights read.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, g, request, session
from flask_babel import get_locale

from ..services import insights, insights_store

LIMIT = 16  # pages of a few MB each at 3,000 cohorts


def _key():
    lti = g.lti
    if lti.course is None or session.get("_flashes") or insights_store.pending() or g.get("landing_url"):
        # (a launch's landing page carries a script that swaps the address: never served again)
        return None
    course = lti.course
    return (course.deployment_id, insights_store.version(course.deployment_id), insights.min_group(),
            request.full_path, str(get_locale()), lti.user.id, lti.user.name, course.id, course.title,
            course.label, tuple(sorted(lti.roles)))


def kept_page(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        key = _key()
        pages = current_app.extensions.setdefault("insights_html", {})
        if key is not None and key in pages:
            return pages[key]
        html = view(*args, **kwargs)
        if key is not None and isinstance(html, str) and not g.get("insights_stale"):
            insights.keep_bounded(pages, key, html, LIMIT)
        return html
    return wrapped
