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
from ..analysis.messages import level
from .analysis_common import current_scheme, filters, places, session
from .i18n import current_language
from .insurance import label as claim_status
from .payment_views import status_label as cycle_status
from .permissions import requires

bp = Blueprint("dashboard", __name__)


def init_app(app) -> None:
    from .app import add_scheme_link

    app.register_blueprint(bp)
    add_scheme_link(app, "dashboard.index", _l("Dashboard"), "dashboard.view")
    app.jinja_env.globals.setdefault("an_level", place_level)


def place_level(code: str) -> str:
    """A level of places in the page's language: region / région (the filters of the dashboard and reports)."""
    return level(code, current_language())


@bp.get("/s/<scheme>/dashboard")
@requires("dashboard.view")
def index(scheme):
    s = current_scheme(scheme)
    f, area_code = filters(s, "dashboard.view")
    lang = current_language()
    d = build(session(), s, f, lang)
    session().rollback()
    words = Words(s, lang)
    figures = {
        "areas": charts.bars([(label, n) for _c, label, n, _e in d.by_area[:15]], title=_("Registered by area"),
                             lang=lang),
        "enrolled_areas": charts.bars([(label, e) for _c, label, _n, e in d.by_area[:15]],
                                      title=_("Enrolled by area"), colour=charts.COLOURS[1], lang=lang),
        "enrolments": charts.columns(d.enrolments_by_month, title=_("Enrolments per month"), lang=lang),
        "contributions": charts.columns(d.contributions_by_month, title=_("Contributions per month (%(cur)s)",
                                                                           cur=s.currency), lang=lang),
        "claims": charts.bars([(claim_status(st), n) for st, n, _a, _p in d.claims_by_status],
                              title=_("Claims by status"), colour=charts.COLOURS[3], lang=lang),
        "diagnoses": charts.bars([(f"{c} {t}".strip(), n) for c, t, n in d.top_diagnoses], title=_("Top diagnoses"),
                                 colour=charts.COLOURS[4], lang=lang),
        "vouchers": charts.bars([(words.voucher(t), n) for t, n, _u in d.vouchers_by_type],
                                title=_("Vouchers issued by type"), colour=charts.COLOURS[5], lang=lang),
        "cycles": charts.columns([(f"{c['benefit']} #{c['cycle']}", c["total"]) for c in d.cycles],
                                 title=_("Payments per cycle (%(cur)s)", cur=s.currency), lang=lang),
    }
    return render_template("analysis/dashboard.html", scheme=s, d=d, figures=figures, f=f, area_code=area_code,
                           places=places(s, "dashboard.view"), lang=lang, words=words, cycle_status=cycle_status)


class Words:
    """The scheme's own names for its codes, in the page's language."""

    def __init__(self, scheme, lang: str):
        self.scheme, self.lang = scheme, lang

    def benefit(self, code: str) -> str:
        b = self.scheme.benefit(code)
        return b.label.get(self.lang, self.scheme.default_language) if b is not None else code

    def voucher(self, kind: str) -> str:
        for b in self.scheme.benefits:
            for v in b.vouchers:
                if v.type == kind and v.label:
                    return v.label.get(self.lang, self.scheme.default_language)
        return kind


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
