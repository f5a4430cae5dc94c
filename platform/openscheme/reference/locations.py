"""Loading an administrative hierarchy: rows of (code, name, level, parent code)."""

from __future__ import annotations

from sqlalchemy import select

from ..storage.models import Location


def add_locations(session, rows: list[tuple[str, str, str, str | None]]) -> dict[str, Location]:
    """Insert locations (parents before children); existing codes are kept. Returns code -> Location."""
    known = {loc.code: loc for loc in session.scalars(select(Location))}
    for code, name, level, parent_code in rows:
        if code in known:
            continue
        parent = known.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise ValueError(f"location {code}: unknown parent {parent_code}")
        path = (parent.path if parent else "/") + code + "/"
        loc = Location(code=code, name=name, level=level, parent_id=parent.id if parent else None, path=path)
        session.add(loc)
        session.flush()
        known[code] = loc
    return known
