"""Property tests: the compiled fast path means exactly what the reference interpreter means.

Random well-typed formulas are drawn from a small grammar over a fixed scope (numbers,
dates, text with choices, yes/no, a member roster with dob/sex/income, aggregates,
if-else, membership) and evaluated on random records - with empty values, missing
keys and empty rosters - by both paths. They must give the same value of the same
type, or both fail. Random text given to compile_formula only ever raises FormulaError.
"""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscheme.formulas import FormulaError, FormulaRuntimeError, Scope, T, compile_formula

SCOPE = Scope(
    names={
        "n1": T.NUMBER, "n2": T.NUMBER, "k": T.NUMBER,
        "d1": T.DATE, "d2": T.DATE,
        "t": T.TEXT,
        "b1": T.BOOL,
        "needs": T.LIST, "area": T.LIST,
        "members": T.MEMBERS,
        "rates": T.TABLE,
    },
    member_names={"dob": T.DATE, "sex": T.TEXT, "income": T.NUMBER},
    # a table cell has no static type: it may be a number or text at run time
    constants={"k": 60, "area": ("a", "b"), "rates": {"a": 1, "b": Decimal("2.5"), "c": "text"}},
    choices={
        "t": frozenset({"a", "b", "c"}),
        "needs": frozenset({"x", "y", "z"}),
        "sex": frozenset({"male", "female"}),
    },
)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])


def paren(*parts: str) -> str:
    return "(" + " ".join(parts) + ")"


def call(name: str, *args: str) -> str:
    return f"{name}({', '.join(args)})"


# ---- the grammar ----------------------------------------------------------------------

small_int = st.integers(-50, 200).map(str)
decimal_literal = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False,
                              allow_infinity=False).map(lambda d: str(d) if "." in str(d) else f"{d}.0")
date_literal = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(lambda d: f'date("{d.isoformat()}")')
text_literal = st.sampled_from(['"a"', '"b"', '"c"'])


@cache
def number(depth: int, member: bool) -> st.SearchStrategy[str]:
    names = ["n1", "n2", "k"] + (["income"] if member else [])
    leaves = st.one_of(st.sampled_from(names), small_int, decimal_literal, st.just("lookup(rates, t)"))
    if depth == 0:
        return leaves
    n, d, b = number(depth - 1, member), date_(depth - 1, member), boolean(depth - 1, member)
    options = [
        leaves,
        st.tuples(n, st.sampled_from(["+", "-", "*", "/", "//", "%"]), n).map(lambda x: paren(*x)),
        st.tuples(st.one_of(st.sampled_from(names), small_int), st.integers(-3, 4)).map(
            lambda x: paren(x[0], "**", str(x[1]))),
        n.map(lambda a: paren("-" + a)),
        d.map(lambda a: call("age", a)),
        st.tuples(d, d).map(lambda x: call("age", *x)),
        st.tuples(st.sampled_from(["years_between", "months_between", "days_between"]), d, d).map(
            lambda x: call(*x)),
        st.tuples(d, d).map(lambda x: paren(x[0], "-", x[1])),
        st.tuples(st.sampled_from(["year", "month"]), d).map(lambda x: call(*x)),
        st.tuples(st.sampled_from(["round", "floor", "ceil", "abs"]), n).map(lambda x: call(*x)),
        st.tuples(n, st.integers(0, 3)).map(lambda x: call("round", x[0], str(x[1]))),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(n, min_size=2, max_size=3)).map(
            lambda x: call(x[0], *x[1])),
        st.tuples(n, b, n).map(lambda x: paren(x[0], "if", x[1], "else", x[2])),
        n.map(lambda a: call("coalesce", "n1", a)),
    ]
    if not member:  # count(needs) inside count/sum/any/all is refused as a nested aggregate
        nm, bm = number(depth - 1, True), boolean(depth - 1, True)
        options += [
            st.just(call("count", "needs")),
            st.just(call("count", "members")),
            bm.map(lambda a: call("count", "members", a)),
            nm.map(lambda a: call("sum", "members", a)),
        ]
    return st.one_of(*options)


@cache
def date_(depth: int, member: bool) -> st.SearchStrategy[str]:
    names = ["d1", "d2"] + (["dob"] if member else [])
    leaves = st.one_of(st.sampled_from(names), date_literal, st.just("today()"))
    if depth == 0:
        return leaves
    n, d, b = number(depth - 1, member), date_(depth - 1, member), boolean(depth - 1, member)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(["add_days", "add_months", "add_years"]), d, n).map(lambda x: call(*x)),
        st.tuples(d, st.sampled_from(["+", "-"]), n).map(lambda x: paren(*x)),
        st.tuples(n, d).map(lambda x: paren(x[0], "+", x[1])),
        st.tuples(d, b, d).map(lambda x: paren(x[0], "if", x[1], "else", x[2])),
        d.map(lambda a: call("coalesce", "d1", a)),
    )


@cache
def text(depth: int, member: bool) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.just("t"), text_literal)
    if depth == 0:
        return leaves
    s, b = text(depth - 1, member), boolean(depth - 1, member)
    return st.one_of(
        leaves,
        st.tuples(s, s).map(lambda x: paren(x[0], "+", x[1])),
        st.tuples(s, b, s).map(lambda x: paren(x[0], "if", x[1], "else", x[2])),
        s.map(lambda a: call("coalesce", "t", a)),
    )


@cache
def boolean(depth: int, member: bool) -> st.SearchStrategy[str]:
    leaves = [st.sampled_from(["b1", "true", "false", "True", "False"])]
    if member:
        leaves.append(st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(['"male"', '"female"'])).map(
            lambda x: paren("sex", *x)))
        leaves.append(st.just('(sex in ("male", "female"))'))
    if depth == 0:
        return st.one_of(*leaves)
    n, d, s, b = (number(depth - 1, member), date_(depth - 1, member), text(depth - 1, member),
                  boolean(depth - 1, member))
    ordering = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    options = [
        *leaves,
        st.tuples(n, ordering, n).map(lambda x: paren(*x)),
        st.tuples(n, ordering, n, ordering, n).map(lambda x: paren(*x)),  # chained
        st.tuples(d, ordering, d).map(lambda x: paren(*x)),
        st.tuples(s, st.sampled_from(["==", "!="]), s).map(lambda x: paren(*x)),
        st.tuples(st.sampled_from(["in", "not in"]),
                  st.sampled_from(['("a", "b")', '["a", "c"]', "area", "()"])).map(lambda x: paren("t", *x)),
        st.tuples(st.sampled_from(['"x"', '"y"', '"z"']), st.sampled_from(["in", "not in"])).map(
            lambda x: paren(x[0], x[1], "needs")),
        st.tuples(n, st.sampled_from(["in", "not in"]), st.lists(n, max_size=3)).map(
            lambda x: paren(x[0], x[1], "(" + "".join(e + ", " for e in x[2]) + ")")),
        st.tuples(text_literal, s).map(lambda x: paren(x[0], "in", x[1])),
        st.sampled_from(['(needs == ["x", "y"])', '(needs != ["x"])', "(needs == ())"]),
        st.tuples(b, st.sampled_from(["and", "or"]), b).map(lambda x: paren(*x)),
        b.map(lambda a: paren("not", a)),
        st.tuples(b, b, b).map(lambda x: paren(x[0], "if", x[1], "else", x[2])),
        st.sampled_from(["n1", "d1", "t", "b1", "needs", "members"]).map(lambda a: call("present", a)),
    ]
    if not member:
        bm = boolean(depth - 1, True)
        options += [
            st.tuples(st.sampled_from(["any", "all", "count"]), bm).map(
                lambda x: paren(call(x[0], "members", x[1]), ">= 1" if x[0] == "count" else "")),
        ]
    return st.one_of(*options)


DEPTH = 3
KINDS = {"number": number, "date": date_, "yes/no": boolean, "text": text}
formulas = st.sampled_from(["number", "date", "yes/no", "yes/no", "text"]).flatmap(
    lambda kind: KINDS[kind](DEPTH, False))


# ---- records ------------------------------------------------------------------------------

numbers = st.one_of(
    st.none(),
    st.integers(-10**6, 10**6),
    st.integers(-3, 3),
    st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
)
dates = st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2100, 12, 31)))


def maybe_missing(fields: dict) -> st.SearchStrategy[dict]:
    """A record where each field may be absent altogether."""
    return st.fixed_dictionaries({}, optional=fields)


members = st.lists(
    maybe_missing({"dob": dates, "sex": st.one_of(st.none(), st.sampled_from(["male", "female"])),
                   "income": numbers}),
    max_size=4,
)

records = maybe_missing({
    "n1": numbers,
    "n2": numbers,
    "d1": dates,
    "d2": dates,
    "t": st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""]), st.text(max_size=5)),
    "b1": st.one_of(st.none(), st.booleans()),
    "needs": st.one_of(st.none(), st.lists(st.sampled_from(["x", "y", "z"]), max_size=3, unique=True)),
    "members": st.one_of(st.none(), members),
})

as_of_dates = st.dates(date(1950, 1, 1), date(2100, 12, 31))


# ---- the properties ------------------------------------------------------------------------


def category(value) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, date):
        return "date"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "empty"
    return type(value).__name__


def outcome_of(formula, values, as_of):
    """(compiled result or exception, interpreter result or exception)."""
    try:
        compiled = ("value", formula.function(values, as_of))
    except Exception as exc:  # noqa: BLE001 - the raw compiled function may raise anything
        compiled = ("error", exc)
    try:
        reference = ("value", formula.interpret(values, as_of))
    except FormulaRuntimeError as exc:
        reference = ("error", exc)
    return compiled, reference


@PROPERTY_SETTINGS
@given(text=formulas, values=records, as_of=as_of_dates)
def test_compiled_path_agrees_with_the_interpreter(text, values, as_of):
    formula = compile_formula(text, SCOPE)  # the grammar only makes well-typed formulas
    compiled, reference = outcome_of(formula, values, as_of)
    assert compiled[0] == reference[0], (text, values, as_of, compiled, reference)
    if compiled[0] == "value":
        c, r = compiled[1], reference[1]
        assert c == r, (text, values, as_of, c, r)
        assert category(c) == category(r), (text, values, as_of, c, r)
        assert type(c) is type(r), (text, values, as_of, c, r)
        # a number never becomes a float
        assert not isinstance(c, float)
    # the production entry point gives the interpreter's value or its clean error
    if reference[0] == "value":
        assert formula.evaluate(values, as_of) == reference[1]


@PROPERTY_SETTINGS
@given(text=formulas)
def test_the_static_type_is_the_type_of_the_value(text):
    formula = compile_formula(text, SCOPE)
    values = {"n1": 7, "n2": Decimal("2.50"), "d1": date(2000, 2, 29), "d2": date(1990, 12, 31), "t": "a",
              "b1": True, "needs": ["x"], "members": [{"dob": date(1950, 1, 1), "sex": "male", "income": 5}]}
    try:
        value = formula.interpret(values, date(2024, 6, 15))
    except FormulaRuntimeError:
        return
    expected = {T.NUMBER: "number", T.DATE: "date", T.BOOL: "yes/no", T.TEXT: "text"}.get(formula.result_type)
    if expected is not None:  # T.ANY: a table cell, whatever the table holds
        assert category(value) == expected, (text, value)


formula_alphabet = "()[]{}+-*/%<>=!.,:;'\"\\ \n\tabcdefgiklmnorstuxyz_0123456789@~^&|"


@PROPERTY_SETTINGS
@given(text=st.one_of(st.text(max_size=80), st.text(alphabet=formula_alphabet, max_size=60)))
def test_random_text_only_raises_formula_error(text):
    try:
        formula = compile_formula(text, SCOPE)
    except FormulaError as exc:
        assert exc.code and exc.message
        assert exc.line >= 1 and exc.col >= 0
        return
    # when random text happens to be a formula, it evaluates or fails cleanly
    for values in ({}, {"n1": 1, "t": "a", "members": [{}]}):
        with contextlib.suppress(FormulaRuntimeError):
            formula.evaluate(values, date(2024, 1, 1))


@PROPERTY_SETTINGS
@given(text=formulas, cut=st.integers(0, 200), junk=st.sampled_from(["", ")", "(", ".x", "[0]", " ==", "'"]))
def test_mangled_formulas_only_raise_formula_error(text, cut, junk):
    mangled = text[:cut] + junk + text[cut:]
    with contextlib.suppress(FormulaError):
        compile_formula(mangled, SCOPE)
