"""Reading a declared field out of the JSON column, in a way each database can index.

PostgreSQL indexes `(data->>'national_id')`; SQLite indexes
`json_extract(data, '$.national_id')` but only uses the index when the path is a
literal in the SQL text (SQLAlchemy would bind it as a parameter: a full scan).
Field names are checked by the compiler (`^[a-z][a-z0-9_]*$`), so writing them
into SQL text is safe; `field_sql` refuses anything else.
"""

from __future__ import annotations

import re

from sqlalchemy import literal_column, text

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _checked(field: str) -> str:
    if not NAME_RE.match(field):
        raise ValueError(f"not a field name: {field!r}")
    return field


def field_sql(table: str, field: str, dialect: str) -> str:
    """SQL text of the expression `table.data -> field` as text."""
    field = _checked(field)
    if dialect == "postgresql":
        return f"({table}.data->>'{field}')"
    return f"json_extract({table}.data, '$.{field}')"


def index_expression(field: str, dialect: str) -> str:
    field = _checked(field)
    if dialect == "postgresql":
        return f"(data->>'{field}')"
    return f"json_extract(data, '$.{field}')"


def field_column(table: str, field: str, dialect: str):
    return literal_column(field_sql(table, field, dialect))


__all__ = ["field_column", "field_sql", "index_expression", "text"]
