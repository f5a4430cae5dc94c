"""The whitelisted functions of the formula language: signatures and implementations.

This table is the whole vocabulary a formula can call; nothing else is reachable.
`docs/definition-reference.md` documents each entry. Functions that depend on the
evaluation date (`age`, `today`) take it as their first argument; the interpreter
and the compiled path both pass it, so a formula is a pure function of
(record, as_of).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import runtime_error
from .types import T

MAX_POWER_EXPONENT = 100
MAX_POWER_BASE = 10**15
MAX_TEXT_LENGTH = 10_000


@dataclass(frozen=True)
class Signature:
    args: tuple[T, ...]
    returns: T
    optional: tuple[T, ...] = ()
    variadic: bool = False  # min/max: two or more of args[0]
    needs_as_of: bool = False
    doc: str = ""


# ---- date helpers -------------------------------------------------------------------


def _need(value, what: str):
    if value is None:
        raise runtime_error("run_no_value", what=what)
    return value


def years_between(start: date, end: date) -> int:
    """Completed years from start to end (a birthday counts on the day)."""
    _need(start, "the first date")
    _need(end, "the second date")
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def months_between(start: date, end: date) -> int:
    _need(start, "the first date")
    _need(end, "the second date")
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def days_between(start: date, end: date) -> int:
    return (_need(end, "the second date") - _need(start, "the first date")).days


# Marks an optional argument that was not written, so that an argument written but
# empty (None) fails like everywhere else instead of silently taking the default.
_OMITTED = object()


def age(as_of: date, born: date, at=_OMITTED) -> int:
    at = as_of if at is _OMITTED else _need(at, "the date")
    return years_between(_need(born, "the date of birth"), at)


def today(as_of: date) -> date:
    return as_of


def to_date(text: str) -> date:
    try:
        return date.fromisoformat(_need(text, "the date text"))
    except (TypeError, ValueError):
        raise runtime_error("run_not_a_date", text=str(text)) from None


def add_days(d: date, n) -> date:
    return _need(d, "the date") + timedelta(days=int(_need(n, "the number of days")))


def add_months(d: date, n) -> date:
    _need(d, "the date")
    total = d.month - 1 + int(_need(n, "the number of months"))
    year, month = d.year + total // 12, total % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, n) -> date:
    return add_months(d, 12 * int(_need(n, "the number of years")))


def year(d: date) -> int:
    return _need(d, "the date").year


def month(d: date) -> int:
    return _need(d, "the date").month


# ---- numbers --------------------------------------------------------------------------


def to_decimal(x) -> Decimal:
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(x)


def round_half_up(x, places=0) -> Decimal | int:
    """Round like a cashier (2.5 -> 3), not like Python's banker's rounding."""
    _need(x, "the number to round")
    places = int(places)
    if places == 0:
        return int(to_decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return to_decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def floor_(x) -> int:
    return int(to_decimal(_need(x, "the number")).to_integral_value(rounding=ROUND_FLOOR))


def ceil_(x) -> int:
    return int(to_decimal(_need(x, "the number")).to_integral_value(rounding=ROUND_CEILING))


def abs_(x):
    return abs(_need(x, "the number"))


def min_(*xs):
    return min(_need(x, "a value") for x in xs)


def max_(*xs):
    return max(_need(x, "a value") for x in xs)


def divide(a, b):
    """Division always gives an exact Decimal, never a float."""
    if b == 0:
        raise runtime_error("run_division_by_zero")
    try:
        return to_decimal(a) / to_decimal(b)
    except InvalidOperation:
        raise runtime_error("run_division_no_result") from None


def power(a, b):
    if abs(b) > MAX_POWER_EXPONENT or abs(a) > MAX_POWER_BASE:
        raise runtime_error("run_power_too_large", exponent=MAX_POWER_EXPONENT, base=MAX_POWER_BASE)
    if isinstance(a, int) and isinstance(b, int) and b >= 0:
        return a**b
    try:
        return to_decimal(a) ** to_decimal(b)
    except InvalidOperation:
        raise runtime_error("run_power_no_result") from None


NUMBER_TYPES = (int, Decimal, float)


def _numbers(a, b, symbol: str) -> None:
    """'*', '//' and '%' are for numbers only: on text they would repeat or format it."""
    if not (isinstance(a, NUMBER_TYPES) and isinstance(b, NUMBER_TYPES)):
        raise runtime_error("run_needs_numbers", symbol=symbol)


def multiply(a, b):
    _numbers(a, b, "*")
    return a * b


def floor_divide(a, b):
    _numbers(a, b, "//")
    return a // b


def modulo(a, b):
    _numbers(a, b, "%")
    return a % b


def concat(a: str, b: str) -> str:
    if len(a) + len(b) > MAX_TEXT_LENGTH:
        raise runtime_error("run_text_too_long", max=MAX_TEXT_LENGTH)
    return a + b


def date_add(a, b):
    """date + days, days + date, number + number."""
    if isinstance(a, date):
        return add_days(a, b)
    if isinstance(b, date):
        return add_days(b, a)
    return a + b


def date_sub(a, b):
    """date - date = days; date - days = date."""
    if isinstance(a, date) and isinstance(b, date):
        return (a - b).days
    if isinstance(a, date):
        return add_days(a, -b)
    return a - b


def present(x) -> bool:
    return x is not None and x != "" and x != []


def coalesce(x, default):
    return default if not present(x) else x


def lookup(table: dict, key, column=_OMITTED):
    if not isinstance(table, dict):
        raise runtime_error("run_lookup_needs_table")
    if isinstance(key, (int, Decimal)) and not isinstance(key, bool) and key == int(key):
        key = str(int(key))  # table keys are text: a whole number finds the row "1"
    try:
        row = table[key]
    except (KeyError, TypeError):
        raise runtime_error("run_no_row", key=str(key)) from None
    if column is _OMITTED:
        return row
    _need(column, "the column")
    try:
        return row[column]
    except (KeyError, TypeError):
        raise runtime_error("run_no_column", column=str(column)) from None


# ---- the table ------------------------------------------------------------------------

AGGREGATES = {"count", "sum", "any", "all"}

SIGNATURES: dict[str, Signature] = {
    "age": Signature((T.DATE,), T.NUMBER, optional=(T.DATE,), needs_as_of=True,
                     doc="completed years since a date of birth, at the evaluation date or at the given date"),
    "today": Signature((), T.DATE, needs_as_of=True, doc="the evaluation date"),
    "years_between": Signature((T.DATE, T.DATE), T.NUMBER, doc="completed years from the first date to the second"),
    "months_between": Signature((T.DATE, T.DATE), T.NUMBER, doc="completed months from the first date to the second"),
    "days_between": Signature((T.DATE, T.DATE), T.NUMBER, doc="days from the first date to the second"),
    "date": Signature((T.TEXT,), T.DATE, doc="a date from text written YYYY-MM-DD"),
    "add_days": Signature((T.DATE, T.NUMBER), T.DATE, doc="the date n days later"),
    "add_months": Signature((T.DATE, T.NUMBER), T.DATE, doc="the date n months later (end of month kept)"),
    "add_years": Signature((T.DATE, T.NUMBER), T.DATE, doc="the date n years later"),
    "year": Signature((T.DATE,), T.NUMBER, doc="the year of a date"),
    "month": Signature((T.DATE,), T.NUMBER, doc="the month (1-12) of a date"),
    "min": Signature((T.NUMBER,), T.NUMBER, variadic=True, doc="the smallest of two or more numbers"),
    "max": Signature((T.NUMBER,), T.NUMBER, variadic=True, doc="the largest of two or more numbers"),
    "round": Signature((T.NUMBER,), T.NUMBER, optional=(T.NUMBER,), doc="rounds half up to the given decimal places (default 0)"),
    "floor": Signature((T.NUMBER,), T.NUMBER, doc="the number rounded down"),
    "ceil": Signature((T.NUMBER,), T.NUMBER, doc="the number rounded up"),
    "abs": Signature((T.NUMBER,), T.NUMBER, doc="the number without its sign"),
    "present": Signature((T.ANY,), T.BOOL, doc="true when the value was filled in"),
    "coalesce": Signature((T.ANY, T.ANY), T.ANY, doc="the value, or the default when it is empty"),
    "lookup": Signature((T.TABLE, T.ANY), T.ANY, optional=(T.TEXT,), doc="a row (or one column of it) of a lookup table"),
    # aggregates over the member roster; checked and evaluated specially
    "count": Signature((T.MEMBERS,), T.NUMBER, optional=(T.BOOL,), doc="how many members (meet the condition); also the length of a list"),
    "sum": Signature((T.MEMBERS, T.NUMBER), T.NUMBER, doc="the sum of a number over the members"),
    "any": Signature((T.MEMBERS, T.BOOL), T.BOOL, doc="true when at least one member meets the condition"),
    "all": Signature((T.MEMBERS, T.BOOL), T.BOOL, doc="true when every member meets the condition"),
}

IMPLEMENTATIONS: dict[str, Callable] = {
    "age": age,
    "today": today,
    "years_between": years_between,
    "months_between": months_between,
    "days_between": days_between,
    "date": to_date,
    "add_days": add_days,
    "add_months": add_months,
    "add_years": add_years,
    "year": year,
    "month": month,
    "min": min_,
    "max": max_,
    "round": round_half_up,
    "floor": floor_,
    "ceil": ceil_,
    "abs": abs_,
    "present": present,
    "coalesce": coalesce,
    "lookup": lookup,
}

# Names every formula may use besides the scheme's own.
BUILTIN_NAMES = {"true": True, "false": False}
