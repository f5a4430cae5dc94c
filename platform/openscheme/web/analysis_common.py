"""Helpers shared by the dashboard and report pages: the scheme, the period and area filters
(narrowed to the user's own area), and the list of places to choose from."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from ..analysis.dashboard import Filters
from ..storage.models import Location
from .permissions import scope_paths


def session():
    from .app import db_session

    return db_session()


from .app import current_scheme  # noqa: E402,F401 - re-exported for the analysis screens


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters(scheme, permission: str) -> tuple[Filters, str]:
    """The period and area asked for; an area outside the user's own is refused (403)."""
    allowed = scope_paths(current_user, permission, scheme.code)
    code = (request.args.get("area") or "").strip()
    path = None
    if code:
        path = session().scalar(select(Location.path).where(Location.code == code))
        if path is None:
            abort(404)
        if "/" not in allowed and not any(path.startswith(a) for a in allowed):
            abort(403)
    elif "/" not in allowed:
        path = allowed[0] if allowed else "/nowhere/"
    return Filters(parse_date(request.args.get("from")), parse_date(request.args.get("to")), path), code


def places(scheme, permission: str, limit: int = 300) -> list:
    """Places to filter by: the scheme's upper location levels within the user's area."""
    allowed = scope_paths(current_user, permission, scheme.code)
    levels = list(scheme.location_levels)[:2]
    query = select(Location).where(Location.level.in_(levels)).order_by(Location.path).limit(limit)
    rows = list(session().scalars(query))
    if "/" not in allowed:
        rows = [r for r in rows if any(r.path.startswith(a) for a in allowed)]
    return rows
