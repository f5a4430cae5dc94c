"""Turning an interpreter trace into plain words.

"age(dob) >= pension_age is false (58 >= 60)" is what an officer or an analyst
needs to see; the trace records the value of every name, call and comparison the
interpreter evaluated, in order, and this module renders the informative ones.

A step is kept as plain data (`render_parts`: the formula's own text, the value or the
verdict, JSON-safe), so that it can be said again in another language (`step_text`):
"ultra_poor est faux", "family_premium = 3 500". English is `render`'s output.
"""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal

from .. import numformat

WORDS = {
    "yes": {"en": "yes", "fr": "oui"},
    "no": {"en": "no", "fr": "non"},
    "empty": {"en": "(empty)", "fr": "(vide)"},
    "huge": {"en": "a number of more than 30 digits", "fr": "un nombre de plus de 30 chiffres"},
    "table": {"en": "(table)", "fr": "(table)"},
    "true": {"en": "true", "fr": "vrai"},
    "false": {"en": "false", "fr": "faux"},
    "is": {"en": "{text} is {verdict}", "fr": "{text} est {verdict}"},
    "member": {"en": "{text}: {n} member", "fr": "{text} : {n} membre"},
    "members": {"en": "{text}: {n} members", "fr": "{text} : {n} membres"},
    "in": {"en": "in", "fr": "dans"},
    "not in": {"en": "not in", "fr": "pas dans"},
}


def _word(key: str, lang: str) -> str:
    texts = WORDS[key]
    return texts.get(numformat.base(lang), texts["en"])


def show(value, lang: str = "en") -> str:
    """A value as a step shows it; `lang` for the words (yes, empty) and the numbers."""
    if value is True:
        return _word("yes", lang)
    if value is False:
        return _word("no", lang)
    if value is None:
        return _word("empty", lang)
    if isinstance(value, int) and abs(value) >= 10**30:
        return _word("huge", lang)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = value.normalize() if value == value.to_integral_value() else value
        return f"{value:,f}" if lang == "en" else numformat.decimal(value, lang)
    if isinstance(value, int):
        return f"{value:,}" if lang == "en" else numformat.number(value, lang)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple, frozenset)):
        items = [show(v, lang) for v in list(value)[:8]]
        return "(" + ", ".join(items) + (", ..." if len(value) > 8 else "") + ")"
    if isinstance(value, dict):
        return _word("table", lang)
    return str(value)


def encode(value):
    """A value as JSON-safe data that `shown` writes as `show` would (for stored explanations)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**30 else {"huge": 1}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, (list, tuple, frozenset)):
        items = list(value)
        return {"l": [encode(v) for v in items[:8]], "more": len(items) > 8}
    if isinstance(value, dict):
        return {"t": 1}
    return {"s": str(value)}


def shown(data, lang: str = "en") -> str:
    """`show` of a value kept by `encode`."""
    if not isinstance(data, dict):
        return show(data, lang)
    if "n" in data:
        return show(Decimal(data["n"]), lang)
    if "d" in data:
        return str(data["d"])
    if "l" in data:
        items = [shown(v, lang) for v in data["l"]]
        return "(" + ", ".join(items) + (", ..." if data.get("more") else "") + ")"
    if "huge" in data:
        return _word("huge", lang)
    if "t" in data:
        return _word("table", lang)
    return str(data.get("s", ""))


SYMBOLS = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥",
           ast.In: "in", ast.NotIn: "not in"}
# a single false comparison is shown with what does hold: "58 < 60", not "58 ≥ 60"
NEGATED = {ast.Eq: "≠", ast.NotEq: "=", ast.Lt: "≥", ast.LtE: ">", ast.Gt: "≤", ast.GtE: "<",
           ast.In: "not in", ast.NotIn: "in"}


def _operands(node: ast.Compare, values: dict[int, object], result: object = True) -> list | None:
    """[operand, symbol, operand, ...] of a comparison (operands encoded), or None."""
    parts = [node.left, *node.comparators]
    if not all(id(p) in values or isinstance(p, ast.Constant) for p in parts):
        return None
    ops = NEGATED if (result is False and len(node.ops) == 1) else SYMBOLS
    out = [encode(values[id(node.left)] if id(node.left) in values else node.left.value)]  # noqa: SIM401 - .value only exists on constants
    for op, comp in zip(node.ops, node.comparators, strict=False):
        out.append(ops.get(type(op), "?"))
        out.append(encode(values[id(comp)] if id(comp) in values else comp.value))  # noqa: SIM401
    return out


def render_parts(source: str, trace: list, members_count: int | None = None) -> list[list]:
    """The steps of a trace of (node, value) pairs as data: ["value", text, value],
    ["members", text, count], ["is", text, verdict, operands or None]."""
    values = {id(node): value for node, value in trace}
    parts: list[list] = []
    seen: set[str] = set()
    for node, value in trace:
        text = ast.get_source_segment(source, node) or ""
        if not text or text in seen:
            continue
        if isinstance(node, ast.Name):
            if isinstance(value, (list, tuple)) and value and isinstance(value[0], dict):
                part = ["members", text, len(value)]
            else:
                part = ["value", text, encode(value)]
        elif isinstance(node, ast.Compare):
            part = ["is", text, bool(value), _operands(node, values, value)]
        elif isinstance(node, ast.BoolOp):
            part = ["is", text, bool(value), None]
        else:
            part = ["value", text, encode(value)]
        seen.add(text)
        parts.append(part)
    return parts


def step_text(part, lang: str = "en") -> str:
    """A step of `render_parts` in words."""
    kind, text = part[0], part[1]
    if kind == "members":
        n = part[2]
        plural = n != 1 if numformat.base(lang) == "en" else n > 1
        return _word("members" if plural else "member", lang).format(text=text, n=n)
    if kind == "is":
        line = _word("is", lang).format(text=text, verdict=_word("true" if part[2] else "false", lang))
        detail = part[3] if len(part) > 3 else None
        if detail:
            shown_ops = [shown(x, lang) if i % 2 == 0 else (_word(x, lang) if x in ("in", "not in") else x)
                         for i, x in enumerate(detail)]
            line += f" ({' '.join(shown_ops)})"
        return line
    return f"{text} = {shown(part[2], lang)}"


def render(source: str, trace: list, members_count: int | None = None) -> list[str]:
    """Plain-language steps from a trace of (node, value) pairs (English)."""
    return [step_text(p) for p in render_parts(source, trace, members_count)]
