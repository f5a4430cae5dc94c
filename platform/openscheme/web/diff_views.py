"""Versions of a scheme and the semantic diff between any two of them (`analysis.diff`)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..analysis.diff import diff_schemes, grouped
from ..storage.models import SchemeVersion
from .analysis_common import current_scheme, session
from .i18n import current_language
from .permissions import requires

bp = Blueprint("versions", __name__)


def init_app(app) -> None:
    from .app import add_scheme_link

    app.register_blueprint(bp)
    add_scheme_link(app, "versions.index", _l("Versions and changes"), "schemes.versions")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.get("/s/<scheme>/versions")
@requires("schemes.versions")
def index(scheme):
    from .app import catalog

    s = current_scheme(scheme)
    rows = list(session().scalars(select(SchemeVersion).where(SchemeVersion.code == s.code)
                                  .order_by(SchemeVersion.id.desc()).limit(200)))
    ids = [r.id for r in rows]
    b = _int(request.args.get("b")) or (ids[0] if ids else None)
    a = _int(request.args.get("a")) or next((i for i in ids if b is not None and i < b), None)
    changes, old, new = None, None, None
    if a is not None and b is not None:
        if a not in ids or b not in ids:
            abort(404)
        old, new = catalog().by_version(a), catalog().by_version(b)
        if old is None or new is None:
            abort(404)
        changes = grouped(diff_schemes(old, new))
    return render_template("analysis/versions.html", scheme=s, rows=rows, a=a, b=b, changes=changes, old=old,
                           new=new, lang=current_language())
