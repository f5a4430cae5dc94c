"""Options of location fields: the places of the declared level, within the user's area.

A location field lists `Location` rows of its level. When the scheme also declares a field of a
higher level, the select cascades from it: the server renders only the places inside the chosen
higher place (none while nothing above is chosen), and the page asks for the places of a newly
chosen one (`/s/<scheme>/places`, web/static/forms.js); a country's thousands of villages are
never sent at once. The registry service refuses a place outside the chosen higher one (E807).

An officer limited to a district is offered only the places in that district, and the ones above
it (its region).
"""

from __future__ import annotations

from sqlalchemy import or_, select

from ..registry.search import path_range
from ..storage.models import Location
from .fields import option


def location_rows(session, levels: set[str], scope: list[str] | None, within: str | None = None) -> list[Location]:
    """Locations of these levels inside (or above) the user's area - and inside `within`, a path - by name."""
    if not levels:
        return []
    query = select(Location).where(Location.level.in_(sorted(levels)))
    if scope is not None and "/" not in scope:
        if not scope:
            return []
        ancestors = {p[: i + 1] for p in scope for i, ch in enumerate(p) if ch == "/"}
        query = query.where(or_(Location.path.in_(sorted(ancestors)), *[path_range(Location.path, p) for p in scope]))
    if within:
        query = query.where(path_range(Location.path, within))
    return list(session.scalars(query.order_by(Location.name, Location.code)))


def place_option(loc: Location):
    return option(loc.code, f"{loc.name} ({loc.code})", {"data-path": loc.path})


def set_location_choices(form, session, scope: list[str] | None = None) -> None:
    """Fill the options of every location field of a form (and its member rows): a field that cascades
    from a higher one lists the places inside the nearest chosen one above it (none if none is chosen)."""
    scheme = form.scheme
    fields = [f for f in scheme.fields + scheme.member_fields if f.type == "location"]
    if not fields:
        return
    forms = [form]
    if scheme.is_household:
        forms += [entry.form for entry in form.members.entries] + [form.member_template()]
    chosen = {b.data for target in forms for spec in fields
              if (b := target.field_for(spec.name)) is not None and isinstance(b.data, str) and b.data}
    known = {loc.code: loc for loc in session.scalars(select(Location).where(Location.code.in_(chosen)))} \
        if chosen else {}
    cache: dict[tuple, list] = {}

    def places(level: str, within: str | None) -> list[Location]:
        key = (level, within)
        if key not in cache:
            cache[key] = location_rows(session, {level}, scope, within)
        return cache[key]

    single: dict[int, str] = {}  # id(bound field) -> path of its only option (an officer's one region)

    def above(target_form, bound):
        """The path of the nearest chosen place above this field - or of a place above that is the only
        one offered - ('' when there is none; None: the field does not cascade from a place)."""
        if bound.cascade_mode != "path":
            return None
        parent = bound
        for _ in range(len(fields)):
            _mode, name, parent_scope = parent.cascade
            parent = (target_form if parent_scope == "member" else form).field_for(name)
            if parent is None:
                return ""
            place = known.get(parent.data) if isinstance(parent.data, str) else None
            if place is not None:
                return place.path
            if id(parent) in single:
                return single[id(parent)]
            if parent.cascade_mode != "path":
                return ""
        return ""

    def fill(target_form):
        for spec in fields:  # in declaration order: a place's higher places first
            bound = target_form.field_for(spec.name)
            if bound is None:
                continue
            within = above(target_form, bound)
            rows = [] if within == "" else places(spec.location_level, within)
            if len(rows) == 1:
                single[id(bound)] = rows[0].path
                if bound.data is None and not bound.raw_data:  # a new form: the only place is chosen already
                    bound.data = rows[0].code
            choices = [place_option(loc) for loc in rows]
            if bound.data and all(getattr(c, "value", c[0] if isinstance(c, tuple) else None) != bound.data for c in choices):
                # a stored place outside the list (another area, or removed): keep it visible
                place = known.get(bound.data)
                choices = [place_option(place) if place is not None else option(bound.data, bound.data)] + choices
            bound.choices = choices

    for target in forms:
        fill(target)
