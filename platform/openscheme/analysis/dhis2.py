"""DHIS2 export: the scheme's declared indicators as a `dataValueSets` JSON document.

    doc = data_value_set(session, scheme, "202608")
    # {"period": "202608", "dataValues": [{"dataElement": "NQ_PEOPLE", "period": "202608",
    #   "orgUnit": "BSE", "categoryOptionCombo": "...", "value": "412"}, ...]}

Each indicator is a formula over the unit: a yes/no is counted, a number summed, per org
unit (the unit's location code, or the value of `org_unit_field`) and per category option
combo (a fixed one, or one per choice of `disaggregate_by`). The population is the units
registered by the end of the period (or, with `population: enrolled`, those with an
enrolment active during it). Formulas run as one grouped SQL statement when they translate
(`formulas.sql`), in Python batches otherwise; an error never counts (fail closed). Codes
are sent as codes: import with `idScheme=CODE` (or dataElementIdScheme/orgUnitIdScheme).
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from ..definitions.model import Indicator, Scheme
from ..formulas import FormulaRuntimeError, T
from ..formulas.sql import NotTranslatable, to_sql
from ..targeting.loading import iter_units, unit_table
from .enrolled import enrolled_sql
from .impact import field_types

PERIOD_RE = re.compile(r"^(\d{4})(?:(\d{2})|Q([1-4]))?$")


class PeriodError(ValueError):
    pass


def period_range(period: str) -> tuple[date, date]:
    """First and last day of a DHIS2 period: 2026 (yearly), 202608 (monthly), 2026Q3 (quarterly)."""
    m = PERIOD_RE.match(period or "")
    if not m:
        raise PeriodError(f"'{period}' is not a DHIS2 period (YYYYMM, YYYY or YYYYQn)")
    year = int(m.group(1))
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"'{period}': there is no month {month}")
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if m.group(3):
        q = int(m.group(3))
        start = date(year, 3 * q - 2, 1)
        end_month = 3 * q
        return start, date(year, end_month, calendar.monthrange(year, end_month)[1])
    return date(year, 1, 1), date(year, 12, 31)


def _json_text(dialect: str, alias: str, name: str) -> str:
    if dialect == "postgresql":
        return f"({alias}.data->>'{name}')"
    return f"json_extract({alias}.data, '$.{name}')"


def _population(scheme: Scheme, indicator: Indicator) -> str:
    base = "x.scheme_code = :code AND x.active = TRUE AND x.created_at < :after_end"
    if not scheme.is_household:
        base += " AND x.household_id IS NULL"
    if indicator.population == "enrolled":
        base += " AND " + enrolled_sql(scheme, "x", during_period=True)
    return base


def _org_sql(dialect: str, indicator: Indicator) -> str:
    if indicator.org_unit_field:
        return f"COALESCE({_json_text(dialect, 'x', indicator.org_unit_field)}, '')"
    return "COALESCE(x.location_code, '')"


def _combo_sql(dialect: str, indicator: Indicator) -> str:
    if indicator.disaggregate_by:
        return f"COALESCE({_json_text(dialect, 'x', indicator.disaggregate_by)}, '')"
    return "''"


def indicator_values(session, scheme: Scheme, indicator: Indicator, start: date, end: date) -> dict[tuple, Decimal]:
    """{(org unit code, combo key): value} for one indicator over the period."""
    dialect = session.get_bind().dialect.name
    table = unit_table(scheme)
    params = {"code": scheme.code, "start": start, "end": end, "after_end": end + timedelta(days=1),
              "as_of": end.isoformat()}
    where = _population(scheme, indicator)
    try:
        compiled = to_sql(indicator.formula, dialect, field_types(scheme), unit="x",
                          household=scheme.is_household, param_prefix="i")
        value = (f"CASE WHEN ({compiled.sql}) THEN 1 ELSE 0 END" if indicator.counts else f"({compiled.sql})")
        rows = session.execute(text(
            f"SELECT s.o, s.c, SUM(s.v) FROM (SELECT {_org_sql(dialect, indicator)} AS o, "
            f"{_combo_sql(dialect, indicator)} AS c, {value} AS v FROM {table} x WHERE {where}) s "
            f"GROUP BY s.o, s.c"), params | compiled.params).all()
        return {(o, c): Decimal(v) for o, c, v in rows if v is not None}
    except NotTranslatable:
        pass
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    ids_sql = f"SELECT x.id FROM {table} x WHERE {where}"
    for units in iter_units(session, scheme, ids_sql=ids_sql, params=params):
        codes = {}
        if not indicator.org_unit_field:
            codes = dict(session.execute(text(f"SELECT id, location_code FROM {table} WHERE id IN "
                                              f"({', '.join(str(int(u)) for u, _ in units)})")).all())
        for unit_id, values in units:
            try:
                v = indicator.formula.evaluate(values, end)
            except FormulaRuntimeError:
                continue  # fail closed: an error is never counted
            if indicator.counts:
                v = 1 if v else 0
            elif v is None or isinstance(v, bool):
                continue
            org = (values.get(indicator.org_unit_field) if indicator.org_unit_field else codes.get(unit_id)) or ""
            combo = values.get(indicator.disaggregate_by) or "" if indicator.disaggregate_by else ""
            out[(str(org), str(combo))] += Decimal(v)
    return dict(out)


def _number(value: Decimal) -> str:
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def data_value_set(session, scheme: Scheme, period: str, *, data_set: str | None = None,
                   org_unit: str | None = None, include_zero: bool = False) -> dict:
    """The DHIS2 dataValueSets document for a period (optionally only one org unit code)."""
    start, end = period_range(period)
    values = []
    for ind in scheme.indicators:
        for (org, combo), value in sorted(indicator_values(session, scheme, ind, start, end).items()):
            if not org or (org_unit and org != org_unit):
                continue
            if value == 0 and not include_zero:
                continue
            dv = {"dataElement": ind.data_element, "period": period, "orgUnit": org, "value": _number(value)}
            coc = ind.combos.get(combo) if ind.disaggregate_by else ind.category_option_combo
            if ind.disaggregate_by and coc is None:
                continue  # a value outside the declared choices (stored before the list changed)
            if coc:
                dv["categoryOptionCombo"] = coc
            values.append(dv)
    doc: dict = {}
    if data_set:
        doc["dataSet"] = data_set
    doc |= {"period": period, "completeDate": date.today().isoformat(), "dataValues": values}
    return doc


__all__ = ["PeriodError", "T", "data_value_set", "indicator_values", "period_range"]
