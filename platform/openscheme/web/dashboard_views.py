"""A scheme's dashboard: enrolment and coverage, contributions, claims and top diagnoses,
vouchers, payments per cycle - set-based aggregates drawn as server-rendered SVG, filtered by
period and area. Also the DHIS2 dataValueSets download of the scheme's declared indicators."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..analysis import charts
from ..analysis.dashboard import build
from ..analysis.dhis2 import PeriodError, data_value_set
from ..formulas import show
from .analysis_common import current_scheme, filters, places, session
from .i18n import current_language
from .permissions import requires

bp = Blueprint("dashboard", __name__)


def init_app(app) -> None:
    from .app import add_scheme_link

    app.register_blueprint(bp)
    add_scheme_link(app, "dashboard.index", _l("Dashboard"), "dashboard.view")


@bp.get("/s/<scheme>/dashboard")
@requires("dashboard.view")
def index(scheme):
    s = current_scheme(scheme)
    f, area_code = filters(s, "dashboard.view")
    lang = current_language()
    d = build(session(), s, f, lang)
    session().rollback()
    figures = {
        "areas": charts.bars([(label, n) for _c, label, n, _e in d.by_area[:15]], title=_("Registered by area")),
        "enrolled_areas": charts.bars([(label, e) for _c, label, _n, e in d.by_area[:15]],
                                      title=_("Enrolled by area"), colour=charts.COLOURS[1]),
        "enrolments": charts.columns(d.enrolments_by_month, title=_("Enrolments per month")),
        "contributions": charts.columns(d.contributions_by_month, title=_("Contributions per month (%(cur)s)",
                                                                           cur=s.currency)),
        "claims": charts.bars([(st, n) for st, n, _a, _p in d.claims_by_status], title=_("Claims by status"),
                              colour=charts.COLOURS[3]),
        "diagnoses": charts.bars([(f"{c} {t}".strip(), n) for c, t, n in d.top_diagnoses], title=_("Top diagnoses"),
                                 colour=charts.COLOURS[4]),
        "vouchers": charts.bars([(t, n) for t, n, _u in d.vouchers_by_type], title=_("Vouchers issued by type"),
                                colour=charts.COLOURS[5]),
        "cycles": charts.columns([(f"{c['benefit']} #{c['cycle']}", c["total"]) for c in d.cycles],
                                 title=_("Payments per cycle (%(cur)s)", cur=s.currency)),
    }
    return render_template("analysis/dashboard.html", scheme=s, d=d, figures=figures, f=f, area_code=area_code,
                           places=places(s, "dashboard.view"), lang=lang, show=show)


@bp.get("/s/<scheme>/dhis2.json")
@requires("dashboard.view")
def dhis2(scheme):
    s = current_scheme(scheme)
    if not s.indicators:
        abort(404)
    period = (request.args.get("period") or "").strip()
    try:
        doc = data_value_set(session(), s, period, data_set=(request.args.get("data_set") or "").strip() or None,
                             org_unit=(request.args.get("org_unit") or "").strip() or None)
    except PeriodError as exc:
        abort(400, description=str(exc))
    session().rollback()
    body = json.dumps(doc, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{s.code}-dhis2-{period}.json"'})
