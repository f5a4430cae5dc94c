"""Options of location fields: the places of the declared level, within the user's area.

A location field lists `Location` rows of its level. When the scheme also declares a
field of a higher level, the select cascades from it: each option carries its
materialised path (`data-path="/TZ/DOD/BAHI/"`) and the page keeps only the options
inside the chosen higher place (web/static/forms.js); the registry service refuses
the same mismatch (E807), so the browser only saves a round trip.

One query serves every location field of the form. An officer limited to a district
is offered only the places in that district, and the ones above it (its region).
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..registry.search import path_range
from ..storage.models import Location
from .fields import option


def location_rows(session, levels: set[str], scope: list[str] | None) -> list[Location]:
    """Locations of these levels inside (or above) the user's area, by name."""
    if not levels:
        return []
    query = select(Location).where(Location.level.in_(sorted(levels)))
    if scope is not None and "/" not in scope:
        if not scope:
            return []
        ancestors = {p[: i + 1] for p in scope for i, ch in enumerate(p) if ch == "/"}
        query = query.where(or_(Location.path.in_(sorted(ancestors)), *[path_range(Location.path, p) for p in scope]))
    return list(session.scalars(query.order_by(Location.name, Location.code)))


def set_location_choices(form, session, scope: list[str] | None = None) -> None:
    """Fill the options of every location field of a form (and its member rows) in one query."""
    scheme = form.scheme
    fields = [f for f in scheme.fields + scheme.member_fields if f.type == "location"]
    if not fields:
        return
    rows = location_rows(session, {f.location_level for f in fields if f.location_level}, scope)
    by_level: dict[str, list[tuple]] = {}
    for loc in rows:
        by_level.setdefault(loc.level, []).append(option(loc.code, f"{loc.name} ({loc.code})", {"data-path": loc.path}))

    def fill(target_form):
        for spec in fields:
            bound = target_form.field_for(spec.name)
            if bound is None:
                continue
            choices = by_level.get(spec.location_level, [])
            if bound.data and all(getattr(c, "value", c[0] if isinstance(c, tuple) else None) != bound.data for c in choices):
                # a stored place outside the list (another area, or removed): keep it visible
                choices = [option(bound.data, bound.data)] + choices
            bound.choices = choices

    fill(form)
    if scheme.is_household:
        for entry in form.members.entries:
            fill(entry.form)
        fill(form.member_template())
