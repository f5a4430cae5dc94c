"""Formulas for the browser: JavaScript generated from the checked tree.

Why: a `relevant` field must appear or disappear while the officer types, on a slow
link, without a round trip, and a calculated field should show its value. The
browser's answer is only a preview: the server decides (`validate_record`).

How: exactly like `compiler.py`, the code is *generated* node type by node type from
a tree that passed the checker, never copied from the user's text. User names only
appear as JSON string keys (`v("income")`, inside count/sum/any/all `m("dob")`),
literals as JSON, and every operator and function as a call on the runtime object
`R` (web/static/forms.js), which reproduces the Python meaning: an empty value in
arithmetic or an ordering comparison throws, dates compare by value, Python
truthiness, half-up rounding, `and`/`or` return an operand. Short-circuits stay
short-circuits (the later operands are wrapped in functions), so
`present(dob) and age(dob) > 5` does not throw on an empty date.

Anything without a faithful browser equivalent (lookup() and tables) raises
`Unsupported`; the page then lets the server decide - the field stays visible.
The generated text is plain ES5 (old phone browsers) and needs no eval: it is
served as a script file, as the Content-Security-Policy (script-src 'self') requires.
"""

from __future__ import annotations

import ast
import json
from datetime import date
from decimal import Decimal

from . import functions as fn
from .formula import Formula

COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
           ast.In: "isin", ast.NotIn: "notin"}
BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv",
          ast.Mod: "mod", ast.Pow: "pow"}
# the whitelisted functions the runtime implements (R.fn.<name>); lookup() reads tables: not sent
BROWSER_FUNCTIONS = frozenset(fn.IMPLEMENTATIONS) - {"lookup"}


class Unsupported(Exception):
    """The formula uses something the browser runtime does not do; the server decides."""


def js_string(text: str) -> str:
    """A JSON string literal that is also safe inside any JS source (no U+2028/2029, no '</')."""
    return json.dumps(text, ensure_ascii=True).replace("</", "<\\/")


def js_number(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        text = str(value)
    else:
        dec = value if isinstance(value, Decimal) else Decimal(repr(value))
        if not dec.is_finite():
            raise Unsupported("a number that is not finite")
        text = format(dec, "f")
    return f"({text})" if text.startswith("-") else text


def js_value(value) -> str:
    """A constant of the scheme as a JavaScript literal."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float, Decimal)):
        return js_number(value)
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, date):
        return f"R.date({js_string(value.isoformat())})"
    if isinstance(value, (list, tuple, frozenset, set)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        array = "[" + ", ".join(js_value(v) for v in items) + "]"
        # Python: ("a",) == ["a"] is false; the runtime keeps the difference
        return array if isinstance(value, list) else f"R.tuple({array})"
    raise Unsupported(f"a constant of type {type(value).__name__}")


class JavaScriptGenerator:
    def __init__(self, constants, member_names):
        self.constants = constants
        self.member_names = frozenset(member_names)

    def gen(self, node: ast.AST, member: bool) -> str:
        method = getattr(self, "gen_" + type(node).__name__, None)
        if method is None:  # the checker refuses these already; never emit what we do not know
            raise Unsupported(type(node).__name__)
        return method(node, member)

    def lazy(self, node: ast.AST, member: bool) -> str:
        return f"function () {{ return {self.gen(node, member)}; }}"

    def gen_Expression(self, node, member):
        return self.gen(node.body, member)

    def gen_Constant(self, node, member):
        value = node.value
        if isinstance(value, (bool, int, float, str)):
            return js_value(value)
        raise Unsupported(f"the literal {value!r}")

    def gen_Name(self, node, member):
        name = node.id
        if member and name in self.member_names:
            return f"m({js_string(name)})"
        if name in self.constants:
            return js_value(self.constants[name])
        if name in fn.BUILTIN_NAMES:
            return "true" if fn.BUILTIN_NAMES[name] else "false"
        if name in ("True", "False"):
            return name.lower()
        return f"v({js_string(name)})"

    def gen_List(self, node, member):
        return "[" + ", ".join(self.gen(e, member) for e in node.elts) + "]"

    def gen_Tuple(self, node, member):
        return f"R.tuple({self.gen_List(node, member)})"

    def gen_BoolOp(self, node, member):
        word = "and" if isinstance(node.op, ast.And) else "or"
        first, *rest = node.values
        return f"R.{word}({self.gen(first, member)}, [" + ", ".join(self.lazy(v, member) for v in rest) + "])"

    def gen_UnaryOp(self, node, member):
        operand = self.gen(node.operand, member)
        if isinstance(node.op, ast.Not):
            return f"(!R.t({operand}))"
        if isinstance(node.op, ast.USub):
            return f"R.neg({operand})"
        if isinstance(node.op, ast.UAdd):
            return f"R.pos({operand})"
        raise Unsupported("operator")

    def gen_BinOp(self, node, member):
        name = BINARY.get(type(node.op))
        if name is None:
            raise Unsupported("operator")
        return f"R.{name}({self.gen(node.left, member)}, {self.gen(node.right, member)})"

    def gen_Compare(self, node, member):
        ops = [COMPARE.get(type(op)) for op in node.ops]
        if None in ops:
            raise Unsupported("comparison")
        left = self.gen(node.left, member)
        if len(ops) == 1:
            return f"R.{ops[0]}({left}, {self.gen(node.comparators[0], member)})"
        # a < b < c: each later operand evaluated once, and only while the chain holds
        steps = ", ".join(f"[{js_string(op)}, {self.lazy(comp, member)}]"
                          for op, comp in zip(ops, node.comparators, strict=True))
        return f"R.chain({left}, [{steps}])"

    def gen_IfExp(self, node, member):
        return (f"(R.t({self.gen(node.test, member)}) ? ({self.gen(node.body, member)}) "
                f": ({self.gen(node.orelse, member)}))")

    def gen_Call(self, node, member):
        if not isinstance(node.func, ast.Name):
            raise Unsupported("call")
        name = node.func.id
        if name in fn.AGGREGATES:
            collection = self.gen(node.args[0], False)
            if len(node.args) == 1:
                return f"R.count({collection})"
            inner = self.gen(node.args[1], True)
            return f"R.{name}({collection}, function (m) {{ return {inner}; }})"
        if name not in BROWSER_FUNCTIONS:
            raise Unsupported(f"{name}()")
        args = ", ".join(self.gen(a, member) for a in node.args)
        return f"R.fn.{name}({args})"


def to_javascript(formula: Formula) -> str:
    """A JavaScript function expression `function (v, R) {...}` for a checked formula.

    `v(name)` reads the record (for a member field: the member, then the unit);
    raises `Unsupported` when the browser cannot evaluate the formula faithfully.
    """
    generator = JavaScriptGenerator(formula.constants, formula.member_names)
    body = generator.gen(formula.tree, False)
    return f"function (v, R) {{ return {body}; }}"


FORMULA_KINDS = ("relevant", "calculate", "required_when")


def scheme_formulas(scheme) -> dict[str, dict[str, str]]:
    """field name -> {kind: JS function} for every formula the browser can evaluate."""
    out: dict[str, dict[str, str]] = {}
    for f in scheme.fields + scheme.member_fields:
        for kind in FORMULA_KINDS:
            formula = getattr(f, kind)
            if formula is None:
                continue
            try:
                out.setdefault(f.name, {})[kind] = to_javascript(formula)
            except Unsupported:
                continue
    return out


def scheme_javascript(scheme) -> str:
    """The script a scheme's form pages load: its formulas, registered with the runtime."""
    entries = []
    for name, kinds in scheme_formulas(scheme).items():
        inner = ",\n    ".join(f"{js_string(kind)}: {code}" for kind, code in kinds.items())
        entries.append(f"  {js_string(name)}: {{\n    {inner}\n  }}")
    return (f"/* generated from scheme {scheme.code} v{scheme.version} ({scheme.content_hash[:12]}); "
            "the server re-checks everything */\n"
            f"OpenScheme.register({js_string(scheme.code)}, {js_string(scheme.content_hash)}, {{\n"
            + ",\n".join(entries) + "\n});\n")


__all__ = ["Unsupported", "js_value", "scheme_formulas", "scheme_javascript", "to_javascript"]
