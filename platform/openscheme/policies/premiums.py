"""Premiums for a whole registry at once, set-based.

The per-household premium of `evaluation.engine.compute_premium` depends, for the
openIMIS-style structure (lump sum for up to N members, extra adults and children,
registration fee, discounts), only on two numbers per household: its members and how
many of them are adults on the date. One GROUP BY over the members counts both for
every household; the premium of each distinct (members, adults) pair - a few dozen at
most - is then computed once by the engine itself, so the set-based figures are the
engine's to the cent, with the same explanation. A premium formula is compiled to SQL
(`formulas.sql`, the interpreter's semantics, fail closed) and its distinct results get
the fees and discounts the same way; a formula with no SQL equivalent is evaluated per
household in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from ..definitions.model import Scheme
from ..evaluation.engine import Amount, compute_premium
from ..formulas.sql import NotTranslatable, to_sql
from ..storage.jsonpath import field_sql
from .terms import shift_years


def _birth_field(scheme: Scheme) -> str:
    p = scheme.contributions.premium
    return p.birth_date_field or "dob"


class PremiumTable:
    """Premiums by (members, adults), computed by the engine and kept."""

    def __init__(self, scheme: Scheme, as_of: date, renewal: bool, enrolment_date: date | None):
        self.scheme, self.as_of, self.renewal, self.enrolment_date = scheme, as_of, renewal, enrolment_date
        self.cache: dict = {}
        born = _birth_field(scheme)
        self.adult = {born: as_of - timedelta(days=365 * 40)}
        self.child = {born: as_of - timedelta(days=365 * 3)}

    def structured(self, members: int, adults: int) -> Amount:
        key = (members, adults)
        if key not in self.cache:
            roster = [dict(self.adult) for _ in range(adults)] + [dict(self.child) for _ in range(members - adults)]
            self.cache[key] = compute_premium(self.scheme, {"members": roster}, self.as_of, self.renewal,
                                              self.enrolment_date)
        return self.cache[key]

    def from_formula(self, value) -> Amount:
        """A formula's result with the declared fees and discounts applied by the engine."""
        key = ("formula", value)
        if key not in self.cache:
            p = self.scheme.contributions.premium
            plain = replace(self.scheme, contributions=replace(self.scheme.contributions, premium=replace(
                p, formula=None, lump_sum=Decimal(value), members_covered=None, per_member=None)))
            self.cache[key] = compute_premium(plain, {"members": []}, self.as_of, self.renewal, self.enrolment_date)
        return self.cache[key]


def household_premiums(session, scheme: Scheme, as_of: date, *, renewal: bool = False,
                       enrolment_date: date | None = None, batch: int = 50_000) -> Iterator[tuple[int, Decimal]]:
    """(household id, premium) for every active household of the scheme, streamed."""
    c = scheme.contributions
    if c is None or c.premium is None or not scheme.is_household:
        raise ValueError(f"{scheme.code} has no household premium")
    p = c.premium
    dialect = session.get_bind().dialect.name
    table = PremiumTable(scheme, as_of, renewal, enrolment_date)
    params = {"code": scheme.code}
    if p.formula is None:
        born = field_sql("m", _birth_field(scheme), dialect)
        params["cutoff"] = shift_years(as_of, -p.child_age_below).isoformat()
        sql = (f"SELECT m.household_id, COUNT(*), SUM(CASE WHEN {born} IS NOT NULL AND {born} <= :cutoff THEN 1 ELSE 0 END) "
               f"FROM individuals m JOIN households u ON u.id = m.household_id "
               f"WHERE u.scheme_code = :code AND u.active = TRUE AND m.active = TRUE GROUP BY m.household_id")
        result = session.execute(text(sql).execution_options(yield_per=batch), params)
        for hid, members, adults in result:
            yield hid, table.structured(int(members), int(adults or 0)).value
        return
    if p.lump_sum is not None or p.per_member is not None:
        raise NotTranslatable("a formula combined with a lump sum")
    from ..targeting.run import field_types

    compiled = to_sql(p.formula, dialect, field_types(scheme), household=True, param_prefix="pf")
    params |= compiled.params | {"as_of": as_of.isoformat()}
    sql = f"SELECT u.id, ({compiled.sql}) FROM households u WHERE u.scheme_code = :code AND u.active = TRUE"
    for hid, value in session.execute(text(sql).execution_options(yield_per=batch), params):
        if value is None:
            raise ValueError(f"the premium formula cannot be computed for household {hid}")
        yield hid, table.from_formula(Decimal(str(value))).value
