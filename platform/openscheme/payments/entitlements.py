"""What each enrolled unit is entitled to in a cycle: amount formula, conditions, cap, rounding.

Computed in batches with the compiled formulas (microseconds each). Each
entitlement keeps the values its formulas read, so its explanation can be shown
later exactly as it was computed, even after the household's record changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..definitions.model import Benefit, Scheme
from ..evaluation.engine import as_amount, round_payment
from ..formulas import FormulaRuntimeError
from ..registry.values import to_storage
from ..targeting.loading import iter_units


@dataclass
class Entitlement:
    unit_id: int
    amount: Decimal  # 0 when a condition is not met
    recipient_id: int | None
    channel: str
    inputs: dict  # the values the formulas read
    failed: list[str] = field(default_factory=list)  # conditions not met / errors

    @property
    def payable(self) -> bool:
        return self.amount > 0 and not self.failed


def enrolled_units_sql(scheme: Scheme) -> str:
    column = "household_id" if scheme.is_household else "individual_id"
    return f"SELECT e.{column} FROM enrolments e WHERE e.scheme_code = :code AND e.status = 'active'"


def _inputs(values: dict, names, member_names) -> dict:
    snap = {n: values.get(n) for n in names if n != "members"}
    if member_names and "members" in values:
        snap["members"] = [{n: m.get(n) for n in member_names} for m in values["members"]]
    return to_storage_deep(snap)


def to_storage_deep(value):
    if isinstance(value, dict):
        return {k: to_storage_deep(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_storage_deep(v) for v in value]
    return to_storage({"v": value}).get("v")


def recipient_of(scheme: Scheme, unit_id: int, values: dict) -> int | None:
    if not scheme.is_household:
        return unit_id
    role = scheme.payments.recipient if scheme.payments else "head"
    members = values.get("members") or []
    if role in ("beneficiary", "unit"):
        role = "head"
    for m in members:
        if role in (m.get("roles") or []):
            return m.get("_id")
    return members[0].get("_id") if members else None


def entitlement(scheme: Scheme, b: Benefit, unit_id: int, values: dict, as_of: date) -> Entitlement:
    failed = []
    names, member_names = set(), set()
    formulas = [b.amount] + ([b.eligible_when] if b.eligible_when else []) + [c.formula for c in b.conditions]
    for f in formulas:
        if f is not None:
            names |= f.names
            member_names |= f.member_names
    channel = "cash"
    if scheme.payments:
        channel = scheme.payments.channels[0]
        if scheme.payments.channel_field and values.get(scheme.payments.channel_field):
            channel = values[scheme.payments.channel_field]
    amount = Decimal(0)
    try:
        if b.eligible_when is not None and not b.eligible_when.evaluate(values, as_of):
            failed.append("eligible_when")
        for c in b.conditions:
            if not c.formula.evaluate(values, as_of):
                failed.append(c.name)
        if not failed:
            amount = as_amount(b.amount.evaluate(values, as_of), "the amount")
            if b.cap is not None and amount > b.cap:
                amount = b.cap
            amount = round_payment(amount, scheme)
            if amount < 0:
                failed.append("negative amount")
    except FormulaRuntimeError as exc:
        failed.append(f"error: {exc.message}")
        amount = Decimal(0)
    return Entitlement(unit_id, amount if not failed else Decimal(0), recipient_of(scheme, unit_id, values), channel,
                       _inputs(values, names, member_names), failed)


def compute(session, scheme: Scheme, benefit: Benefit, as_of: date, *, batch: int = 5000,
            progress: Callable[[int], None] | None = None) -> Iterator[list[Entitlement]]:
    """Entitlements of every actively enrolled unit, batch by batch."""
    done = 0
    for units in iter_units(session, scheme, ids_sql=enrolled_units_sql(scheme), batch=batch):
        out = [entitlement(scheme, benefit, uid, values, as_of) for uid, values in units]
        done += len(units)
        if progress:
            progress(done)
        yield out
