"""Typed values <-> the JSON stored in `data`.

Stored JSON keeps money exact (Decimal as text "1500.00") and dates as ISO text,
so SQL can CAST them and Python reads them back through the same validation.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def to_storage(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if value is None or key == "members":
            continue
        out[key] = _encode(value)
    return out


def _encode(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def record_input(household_data: dict | None, members: list[tuple[dict, list]] | None, unit_is_household: bool) -> dict:
    """Stored rows back into the input shape `validate_record` takes."""
    if not unit_is_household:
        return dict(household_data or {})
    data = dict(household_data or {})
    data["members"] = [dict(d) | ({"roles": list(roles)} if roles else {}) for d, roles in (members or [])]
    return data


def decoder(fields):
    """A fast function stored JSON -> typed values, for registry-wide runs.

    Stored data passed validation when it was saved, so this only restores types
    (dates, Decimals); a value that no longer decodes (the scheme changed) reads as
    empty, and the formula using it then fails closed."""
    from ..evaluation.records import _Invalid, coerce

    typed = [(f.name, f) for f in fields if f.type in ("date", "decimal", "money", "integer", "gps")]

    def decode(data: dict) -> dict:
        out = dict(data)
        for name, f in typed:
            raw = out.get(name)
            if raw is not None:
                try:
                    out[name] = coerce(f, raw)
                except _Invalid:
                    out[name] = None
        return out

    return decode
