"""Report downloads: enrolment register, contribution collection, claims overview, payments per
cycle, voucher use - as CSV or XLSX, streamed (the query is read in batches; see
`analysis.reports`)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    stream_with_context,
)
from flask_babel import lazy_gettext as _l

from ..analysis import reports
from .analysis_common import current_scheme, filters, places
from .i18n import current_language
from .permissions import requires

bp = Blueprint("reports", __name__)
TITLES = {"enrolment": _l("Enrolment register"), "contributions": _l("Contribution collection"),
          "claims": _l("Claims overview"), "payments": _l("Payments per cycle"), "vouchers": _l("Voucher use")}


def init_app(app) -> None:
    from .app import add_scheme_link

    app.register_blueprint(bp)
    add_scheme_link(app, "reports.index", _l("Reports"), "reports.download")


@bp.get("/s/<scheme>/reports")
@requires("reports.download")
def index(scheme):
    s = current_scheme(scheme)
    f, area_code = filters(s, "reports.download")
    return render_template("analysis/reports.html", scheme=s, reports=reports.available(s), titles=TITLES, f=f,
                           area_code=area_code, places=places(s, "reports.download"), lang=current_language())


@bp.get("/s/<scheme>/reports/<name>.<fmt>")
@requires("reports.download")
def download(scheme, name, fmt):
    s = current_scheme(scheme)
    if name not in reports.REPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    f, _area = filters(s, "reports.download")
    database = current_app.extensions["openscheme"].db
    filename = f"{s.code}-{name}"
    if f.start or f.end:
        filename += f"-{f.start or ''}-{f.end or ''}"
    if fmt == "csv":
        def generate():
            with database.session_factory() as read:  # its own session: the request's is gone while streaming
                header, data = reports.rows(read, s, name, f)
                yield from reports.csv_chunks(header, data)

        return Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    with database.session_factory() as read:
        header, data = reports.rows(read, s, name, f)
        handle = reports.xlsx_file(header, data, str(TITLES[name]))

    def stream():
        try:
            while chunk := handle.read(64 * 1024):
                yield chunk
        finally:
            handle.close()

    return Response(stream(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})

