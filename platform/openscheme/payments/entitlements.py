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
from ..evaluation import explanations as ex
from ..evaluation.engine import as_amount, round_payment
from ..formulas import FormulaRuntimeError
from ..formulas.errors import runtime_error
from ..registry.values import to_storage
from ..targeting.loading import gc_paused, iter_units, refresh_statistics, unit_table


@dataclass
class Entitlement:
    unit_id: int
    amount: Decimal  # 0 when a condition is not met
    recipient_id: int | None
    channel: str
    inputs: dict  # the values the formulas read
    # conditions not met / errors ("error: <English>"), "negative amount": codes kept as they are
    # (the CLI prints them); a page says them in the reader's language (`cycles.reason_part`)
    failed: list[str] = field(default_factory=list)
    error: object = None  # a formula's runtime error as data (`FormulaRuntimeError.as_param`), said in a language

    @property
    def payable(self) -> bool:
        return self.amount > 0 and not self.failed


def enrolled_units_sql(scheme: Scheme, *, window: bool = False, dialect: str = "postgresql") -> str:
    """Ids of the scheme's actively enrolled units; window=True: only those in (:last, :upper]
    (`iter_units` binds them), so each batch looks at its own enrolments, not all of them.

    On SQLite the unary + keeps the (scheme, status) index out of the plan: without fresh
    statistics SQLite prefers it to the range of unit ids and reads every enrolment per batch."""
    column = "household_id" if scheme.is_household else "individual_id"
    plus = "+" if window and dialect == "sqlite" else ""
    sql = f"SELECT e.{column} FROM enrolments e WHERE {plus}e.scheme_code = :code AND {plus}e.status = 'active'"
    return sql + (f" AND e.{column} > :last AND e.{column} <= :upper" if window else "")


@dataclass(frozen=True)
class Reads:
    """What a benefit's formulas read (worked out once per benefit, not per unit)."""

    names: frozenset  # unit-level names of the amount, eligible_when and conditions ("members": the roster)
    member_names: frozenset
    fields: frozenset  # declared unit fields to load: those names, the eligibility rules', the channel field
    member_fields: frozenset


_reads: dict[int, tuple[Benefit, Scheme, Reads]] = {}


def reads(scheme: Scheme, b: Benefit) -> Reads:
    hit = _reads.get(id(b))
    if hit is not None and hit[0] is b and hit[1] is scheme:
        return hit[2]
    names, member_names = set(), set()
    for f in [b.amount] + ([b.eligible_when] if b.eligible_when else []) + [c.formula for c in b.conditions]:
        if f is not None:
            names |= f.names
            member_names |= f.member_names
    loaded, loaded_members = set(names), set(member_names)
    for rule in scheme.eligibility:
        loaded |= rule.formula.names
        loaded_members |= rule.formula.member_names
    if scheme.payments and scheme.payments.channel_field:
        loaded.add(scheme.payments.channel_field)
    declared = {f.name for f in scheme.fields}
    result = Reads(frozenset(names), frozenset(member_names), frozenset(loaded & declared),
                   frozenset(loaded_members & {f.name for f in scheme.member_fields}))
    _reads[id(b)] = (b, scheme, result)  # keeps b alive: its id is not reused
    return result


def _store(value):
    t = type(value)
    if t is str or t is int or t is bool:
        return value
    return to_storage_deep(value)


def _inputs(values: dict, names, member_names) -> dict:
    snap = {}
    for n in names:
        if n != "members":
            v = values.get(n)
            if v is not None:
                snap[n] = _store(v)
    if (member_names or "members" in names) and "members" in values:  # count(members) reads the roster
        if member_names:
            snap["members"] = [{n: _store(m[n]) for n in member_names if m.get(n) is not None}
                               for m in values["members"]]
        else:
            snap["members"] = [{} for _ in values["members"]]
    return snap


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
    r = reads(scheme, b)
    names, member_names = r.names, r.member_names
    channel = "cash"
    if scheme.payments:
        channel = scheme.payments.channels[0]
        if scheme.payments.channel_field and values.get(scheme.payments.channel_field):
            channel = values[scheme.payments.channel_field]
    amount = Decimal(0)
    error = None
    try:
        # the scheme's eligibility rules of the version in force: a unit enrolled under an older
        # version that no longer qualifies is not paid (fail closed: an error fails the rule)
        for rule in scheme.eligibility:
            try:
                if not rule.formula.evaluate(values, as_of):
                    failed.append(rule.name)
            except FormulaRuntimeError:
                failed.append(rule.name)
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
        error = exc.as_param()
        amount = Decimal(0)
    return Entitlement(unit_id, amount if not failed else Decimal(0), recipient_of(scheme, unit_id, values), channel,
                       _inputs(values, names, member_names), failed, error)


def compute(session, scheme: Scheme, benefit: Benefit, as_of: date, *, batch: int = 5000,
            progress: Callable[[int], None] | None = None,
            unpaid_in_cycle: int | None = None) -> Iterator[list[Entitlement]]:
    """Entitlements of every actively enrolled unit, batch by batch.

    unpaid_in_cycle: leave out units that have a payment of this benefit in that cycle already
    (a re-run or a resumed run then computes only what is missing)."""
    done = 0
    r = reads(scheme, benefit)
    ids_sql = enrolled_units_sql(scheme, window=True, dialect=session.get_bind().dialect.name)
    params = {}
    if unpaid_in_cycle is not None:
        ids_sql += (" AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.scheme_code = :code AND "
                    "p.benefit_code = :benefit_code AND p.cycle_no = :cycle_no AND p.unit_id > :last AND "
                    "p.unit_id <= :upper AND p.unit_id = e."
                    + ("household_id" if scheme.is_household else "individual_id") + ")")
        params = {"benefit_code": benefit.code, "cycle_no": unpaid_in_cycle}
    refresh_statistics(session, (unit_table(scheme), "individuals", "enrolments", "payments"))
    units_batches = iter_units(session, scheme, ids_sql=ids_sql, params=params, batch=batch,
                               fields=r.fields, member_fields=r.member_fields)
    with gc_paused():  # for the whole run, the caller's inserts included: see gc_paused
        for n, units in enumerate(units_batches, start=1):
            out = [entitlement(scheme, benefit, uid, values, as_of) for uid, values in units]
            done += len(units)
            if progress:
                progress(done)
            yield out
            if unpaid_in_cycle is not None and n % 10 == 0:
                refresh_statistics(session, ("payments",))  # the cycle's own payments grow as it runs


def decode_inputs(scheme: Scheme, inputs: dict) -> dict:
    """Stored inputs of a payment (JSON) back into the typed values its formulas read."""
    from ..registry.values import decoder

    values = decoder(scheme.fields)(dict(inputs or {}))
    if "members" in (inputs or {}):
        decode_member = decoder(scheme.member_fields)
        values["members"] = [decode_member(dict(m)) for m in inputs["members"]]
    return values


def explain_parts(scheme: Scheme, b: Benefit, inputs: dict, as_of: date) -> list[list]:
    """How the stored amount was computed, re-run by the interpreter on the values kept with it:
    the lines as data ([key, params], `evaluation.explanations.text` says each in a language)."""
    values = decode_inputs(scheme, inputs)
    parts: list[list] = []
    for name, f in ([("eligible_when", b.eligible_when)] if b.eligible_when else []) + [
            (c.name, c.formula) for c in b.conditions]:
        e = f.explain(values, as_of)
        parts += [["named_formula", {"name": name, "formula": f.text.strip()}], *(ex.step(p) for p in e.parts)]
        if e.error:
            parts.append(["error", {"message": e.error_param}])
    if b.amount is None:
        return parts
    e = b.amount.explain(values, as_of)
    parts += [["amount_formula", {"formula": b.amount.text.strip()}], *(ex.step(p) for p in e.parts)]
    if e.error or e.value is None or isinstance(e.value, bool):
        parts.append(["error", {"message": e.error_param if e.error
                                else runtime_error("run_no_value", what="the amount").as_param()}])
        return parts
    value = Decimal(e.value)
    if b.cap is not None and value > b.cap:
        parts.append(["capped", {"cap": ex.number(b.cap), "amount": ex.number(value)}])
        value = b.cap
    rounded = round_payment(value, scheme)
    if rounded != value:
        parts.append(["rounded", {"amount": ex.number(rounded)}])
    parts.append(["payment_amount", {"amount": ex.number(rounded), "currency": scheme.currency}])
    return parts


def explain(scheme: Scheme, b: Benefit, inputs: dict, as_of: date, lang: str | None = "en") -> list[str]:
    """`explain_parts` said in a language (English: as the CLI and the logs always read it)."""
    return ex.lines(explain_parts(scheme, b, inputs, as_of), lang)
