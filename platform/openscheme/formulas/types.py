"""The static types of the formula language.

Formulas are checked before they run: every name has a type that comes from the
scheme's declarations (a `date` field is a DATE, a `money` field a NUMBER, ...),
so a date compared with a number is a load-time error, not a surprise at run time.
"""

from __future__ import annotations

from enum import StrEnum


class T(StrEnum):
    NUMBER = "number"
    TEXT = "text"
    BOOL = "yes/no"
    DATE = "date"
    LIST = "list"
    MEMBERS = "members"
    TABLE = "table"
    GPS = "gps point"
    ANY = "any"

    def __str__(self) -> str:  # used in messages: "cannot compare a date with a number"
        return self.value


def article(t: T) -> str:
    """'a date', 'an amount'... for readable messages."""
    word = str(t)
    return ("an " if word[0] in "aeiou" else "a ") + word


def type_of_value(value: object) -> T:
    """The static type of a constant declared in a scheme."""
    from datetime import date
    from decimal import Decimal

    if isinstance(value, bool):
        return T.BOOL
    if isinstance(value, (int, Decimal, float)):
        return T.NUMBER
    if isinstance(value, str):
        return T.TEXT
    if isinstance(value, date):
        return T.DATE
    if isinstance(value, (list, tuple, frozenset, set)):
        return T.LIST
    if isinstance(value, dict):
        return T.TABLE
    return T.ANY
