"""The wage in force in each month, for the monthly contribution schedule of the formal sector.

The registry keeps a record's current values; its audit trail keeps every change with its date.
A month's employer and employee shares are computed on the wage in force that month, not on
today's: otherwise a raise would turn every month already paid in full into arrears, and the
cover (which runs to the end of the unbroken run of paid months) could never move on again.
A wage change counts from the month it was recorded in; the months before keep the wage they
had. All the changes of a list of people are read with one query per chunk of people.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ..definitions.model import Scheme
from ..evaluation.engine import compute_wage_contribution
from ..formulas import FormulaRuntimeError
from ..registry.values import decoder
from ..storage.models import AuditLog
from . import terms

CHUNK = 5000
ZERO = {"employer": Decimal(0), "employee": Decimal(0), "total": Decimal(0)}


def wage_changes(session, scheme: Scheme, person_ids) -> dict[int, list[tuple[str | None, object]]]:
    """{person: [(None, the wage before the first change), (first month, wage), ...]} for the people
    whose wage was changed after they were registered (the others are not in it)."""
    field = scheme.contributions.wage.field if scheme.contributions and scheme.contributions.wage else None
    ids = sorted(set(person_ids))
    out: dict[int, list] = {}
    if field is None:
        return out
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(select(AuditLog.entity_id, AuditLog.at, AuditLog.before, AuditLog.after)
                               .where(AuditLog.entity == "individual", AuditLog.action == "update",
                                      AuditLog.entity_id.in_(ids[i:i + CHUNK]))
                               .order_by(AuditLog.id)).all()
        for pid, at, before, after in rows:
            old = ((before or {}).get("data") or {}).get(field)
            new = ((after or {}).get("data") or {}).get(field)
            if old != new:
                out.setdefault(pid, [(None, old)]).append((terms.period_of(at.date()), new))
    return out


def wage_in(changes: list[tuple[str | None, object]], period: str):
    """The wage of a month from a person's changes (in the order they were recorded)."""
    wage = changes[0][1]
    for first, value in changes[1:]:
        if first <= period:
            wage = value
    return wage


class Shares:
    """The employer's and the employee's share of a wage as stored in the registry (cached per wage)."""

    def __init__(self, scheme: Scheme):
        self.scheme = scheme
        field = scheme.contributions.wage.field
        self.field = field
        self.decode = decoder([f for f in scheme.fields if f.name == field])
        self.cache: dict = {}

    def of(self, raw) -> dict[str, Decimal]:
        key = str(raw)
        found = self.cache.get(key)
        if found is None:
            try:
                amounts = compute_wage_contribution(self.scheme, self.decode({self.field: raw}))
            except FormulaRuntimeError:
                amounts = None
            found = self.cache[key] = {k: a.value for k, a in amounts.items()} if amounts else dict(ZERO)
        return found
