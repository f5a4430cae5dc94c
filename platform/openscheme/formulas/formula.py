"""`Formula`: a formula checked once, evaluated many times.

    f = compile_formula("count(members, age(dob) >= 60) >= 1", scope)
    f.evaluate(record, as_of)   # the fast compiled path
    f.interpret(record, as_of)  # the simpleeval reference interpreter
    f.explain(record, as_of)    # value + plain-language steps

Values are plain Python data: numbers as int or Decimal (never float), dates as
`datetime.date`, select_multiple as lists, the member roster as a list of dicts.
A name missing from the record reads as empty; using an empty value in
arithmetic or an ordering comparison raises `FormulaRuntimeError`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .checker import Scope, check
from .compiler import compile_tree
from .errors import FormulaRuntimeError
from .explain import render_parts, step_text
from .interpreter import interpret
from .types import T


@dataclass(frozen=True)
class Explanation:
    value: object
    steps: list[str]  # in English
    error: str | None = None
    parts: tuple = ()  # the steps as data, to say them in another language (`explain.step_text`)
    error_said: object = None  # the error as data (formulas/messages.py `Said`): `error_said.text("fr")`

    @property
    def error_param(self):
        """The error as an explanation keeps it (`FormulaRuntimeError.as_param`), or None."""
        return FormulaRuntimeError(self.error, self.error_said).as_param() if self.error else None


@dataclass(frozen=True, eq=False)
class Formula:
    text: str
    result_type: T
    names: frozenset[str]
    member_names: frozenset[str]
    tree: ast.Expression = field(repr=False)
    constants: Mapping[str, object] = field(repr=False)
    function: object = field(repr=False)

    @property
    def source(self) -> str:
        return "(" + self.text + "\n)"

    def _names(self, values: Mapping) -> dict:
        names = {name: values.get(name) for name in self.names}
        names.update({k: v for k, v in self.constants.items() if k in self.names})
        return names

    def evaluate(self, values: Mapping, as_of: date):
        """Fast path. On any failure, the interpreter runs to give the reference error."""
        try:
            return self.function(values, as_of)
        except Exception:  # noqa: BLE001 - the interpreter gives the precise, safe error
            return self.interpret(values, as_of)

    def interpret(self, values: Mapping, as_of: date, trace: list | None = None):
        return interpret(self.tree, self._names(values), as_of, member_names=self.member_names,
                         trace=trace, source=self.source)

    def explain(self, values: Mapping, as_of: date) -> Explanation:
        trace: list = []
        try:
            value = self.interpret(values, as_of, trace)
        except FormulaRuntimeError as exc:
            parts = render_parts(self.source, trace)
            return Explanation(None, [step_text(p) for p in parts], exc.message, tuple(parts), exc.said)
        parts = render_parts(self.source, trace)
        return Explanation(value, [step_text(p) for p in parts], None, tuple(parts))


PLAIN_SCALARS = (bool, int, str, Decimal, date, type(None))


def plain_data(value, depth: int = 0) -> bool:
    """Constants reach the compiled code as globals: only plain data may (defence in depth)."""
    if depth > 4:
        return False
    if isinstance(value, PLAIN_SCALARS) and type(value) in (*PLAIN_SCALARS, bool):
        return True
    if type(value) in (list, tuple, frozenset):
        return all(plain_data(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(type(k) in (str, int) and plain_data(v, depth + 1) for k, v in value.items())
    return False


def compile_formula(text: str, scope: Scope) -> Formula:
    """Check a formula against a scope and compile it; raises FormulaError."""
    if not isinstance(text, str):
        text = str(text)
    result = check(text, scope)
    constants = {k: v for k, v in scope.constants.items() if k in result.names}
    for name, value in constants.items():
        if not plain_data(value):
            raise TypeError(f"constant {name!r} is not plain data")
    function = compile_tree(result.tree, constants=constants, member_names=result.member_names)
    return Formula(
        text=text,
        result_type=result.result_type,
        names=frozenset(result.names),
        member_names=frozenset(result.member_names),
        tree=result.tree,
        constants=constants,
        function=function,
    )
