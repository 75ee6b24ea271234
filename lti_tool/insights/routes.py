from datetime import date

from flask import abort, g, render_template, request
from flask_babel import gettext as _

from ..auth import role_required
from ..lti.roles import LND
from ..services import insights as svc
from . import bp
from .charts import bar_chart, chart_maximum
from ..services import audit
from .exports import csv_response
from .kept import kept_page


@bp.app_template_test("suppressed")
def is_suppressed(value) -> bool:
    """``{% if v is suppressed %}``: a figure held back so that no one is singled out."""
    return value is svc.SUPPRESSED


# The reflection form states, next to these prompts, that they count in anonymous totals whatever their
# visibility: the same function decides what insights read, so the page and the code cannot drift apart.
bp.add_app_template_global(svc.in_anonymous_totals, "in_anonymous_totals")


def _filters() -> tuple[svc.Filters, list[str]]:
    errors, f = [], svc.Filters()
    f.cohort_ids = [int(x) for x in request.args.getlist("cohort") if x.isdigit()]
    for name, label in (("from", _("From")), ("to", _("To"))):
        raw = request.args.get(name, "").strip()
        if raw:
            try:
                setattr(f, "date_from" if name == "from" else "date_to", date.fromisoformat(raw))
            except ValueError:
                errors.append(_("%(field)s: use a date like 2026-03-31.", field=label))
    f.department = request.args.get("department") or None
    return f, errors


def _data():
    filters, errors = _filters()
    data = svc.compute(g.lti.course.deployment_id, filters)
    if filters.department and data["department"] is None:
        # not offered: too few people, or its figures would let someone be worked out (never echoed back)
        errors.append(_("That department is not offered as a filter, so all departments are shown. "
                        "Choose one from the list."))
    filters.department = data["department"]
    return filters, errors, data


@bp.get("/")
@role_required(LND)
@kept_page
def home():
    """L&D insights across the deployment: aggregates only, no figure from fewer than MIN_GROUP_SIZE people."""
    filters, errors, data = _data()
    t = data["tables"]
    by_cohort = t["by_cohort"]
    charts = {
        "gain": bar_chart("gain-chart", _("Reported gain by cohort (mean, 1 to 5)"), [r[0] for r in by_cohort.rows],
                          [(_("Own gain"), [r[5] for r in by_cohort.rows]),
                           (_("Gain seen in partner"), [r[6] for r in by_cohort.rows])], 5),
        "completion": bar_chart("completion-chart", _("Attendance and reflections by cohort (%)"),
                                [r[0] for r in by_cohort.rows],
                                [(_("Attended both days"), [r[3] for r in by_cohort.rows]),
                                 (_("Reflections completed"), [r[4] for r in by_cohort.rows])], 100, "%"),
        "match_scores": bar_chart("match-chart", _("Teams per match score band"), [r[0] for r in t["match_scores"].rows],
                                  [(_("Teams"), [r[1] for r in t["match_scores"].rows])],
                                  chart_maximum(r[1] for r in t["match_scores"].rows)),
        "trend": bar_chart("trend-chart", _("Reflections submitted per month"), [r[0] for r in t["trend"].rows],
                           [(_("Reflections"), [r[1] for r in t["trend"].rows])],
                           chart_maximum(r[1] for r in t["trend"].rows)),
        "gain_trend": bar_chart("gain-trend-chart", _("Reported gain by month (mean, 1 to 5)"),
                                [r[0] for r in t["trend"].rows],
                                [(_("Own gain"), [r[2] for r in t["trend"].rows]),
                                 (_("Gain seen in partner"), [r[3] for r in t["trend"].rows])], 5),
        "funnel": bar_chart("funnel-chart", _("People at each stage, from enrolment to follow-up"),
                            [r[0] for r in t["funnel"].rows], [(_("People"), [r[1] for r in t["funnel"].rows])],
                            chart_maximum(r[1] for r in t["funnel"].rows)),
    }
    return render_template("insights/home.html", data=data, filters=filters, errors=errors, charts=charts,
                           headline=svc.headline(t), query=request.query_string.decode())


@bp.get("/export/<key>.csv")
@role_required(LND)
def export(key: str):
    _filters_, _errors, data = _data()
    table = data["tables"].get(key)
    if table is None:
        abort(404)
    audit.record("export", details={"what": "insights", "table": key})
    return csv_response(table, f"lab-insights-{key}-{date.today().isoformat()}.csv")
