"""Turning an interpreter trace into plain words.

"age(dob) >= pension_age is false (58 >= 60)" is what an officer or an analyst
needs to see; the trace records the value of every name, call and comparison the
interpreter evaluated, in order, and this module renders the informative ones.
"""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal


def show(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "(empty)"
    if isinstance(value, int) and abs(value) >= 10**30:
        return "a number of more than 30 digits"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = value.normalize() if value == value.to_integral_value() else value
        return f"{value:,f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple, frozenset)):
        items = [show(v) for v in list(value)[:8]]
        return "(" + ", ".join(items) + (", ..." if len(value) > 8 else "") + ")"
    if isinstance(value, dict):
        return "(table)"
    return str(value)


SYMBOLS = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥",
           ast.In: "in", ast.NotIn: "not in"}
# a single false comparison is shown with what does hold: "58 < 60", not "58 ≥ 60"
NEGATED = {ast.Eq: "≠", ast.NotEq: "=", ast.Lt: "≥", ast.LtE: ">", ast.Gt: "≤", ast.GtE: "<",
           ast.In: "not in", ast.NotIn: "in"}


def _operands(node: ast.Compare, values: dict[int, object], result: object = True) -> str | None:
    parts = [node.left, *node.comparators]
    if not all(id(p) in values or isinstance(p, ast.Constant) for p in parts):
        return None
    ops = NEGATED if (result is False and len(node.ops) == 1) else SYMBOLS
    out = [show(values[id(node.left)] if id(node.left) in values else node.left.value)]  # noqa: SIM401 - .value only exists on constants
    for op, comp in zip(node.ops, node.comparators, strict=False):
        out.append(ops.get(type(op), "?"))
        out.append(show(values[id(comp)] if id(comp) in values else comp.value))  # noqa: SIM401
    return " ".join(out)


def render(source: str, trace: list, members_count: int | None = None) -> list[str]:
    """Plain-language steps from a trace of (node, value) pairs."""
    values = {id(node): value for node, value in trace}
    lines: list[str] = []
    seen: set[str] = set()
    for node, value in trace:
        text = ast.get_source_segment(source, node) or ""
        if not text or text in seen:
            continue
        if isinstance(node, ast.Name):
            if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
                line = f"{text}: {len(value)} member{'s' if len(value) != 1 else ''}"
            else:
                line = f"{text} = {show(value)}"
        elif isinstance(node, ast.Compare):
            detail = _operands(node, values, value)
            verdict = "true" if value else "false"
            line = f"{text} is {verdict}" + (f" ({detail})" if detail else "")
        elif isinstance(node, ast.BoolOp):
            line = f"{text} is {'true' if value else 'false'}"
        else:
            line = f"{text} = {show(value)}"
        seen.add(text)
        lines.append(line)
    return lines
