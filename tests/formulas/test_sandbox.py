"""The formula sandbox.

Two independent walls: the static checker refuses every construct outside the
language at load time (a FormulaError with a code and a position), and the
reference interpreter refuses the same constructs on its own, on a tree that never
went through the checker (a FormulaRuntimeError, never a Python traceback). The
compiled fast path only ever sees trees the checker accepted, and writes its code
from our own identifiers only.

The simpleeval escapes published so far, and the releases that fixed them:
generator frames (1.0.0), modules reachable through names and attributes
(CVE-2026-32640, 1.0.5), operator.attrgetter/itemgetter/methodcaller and the
contents of sets (1.0.8).
"""

from __future__ import annotations

import ast
import operator
import os
import re
import sys
from datetime import date
from decimal import Decimal
from importlib import metadata

import pytest

from openscheme.formulas import FormulaError, FormulaRuntimeError, Scope, T, compile_formula
from openscheme.formulas.compiler import compile_tree
from openscheme.formulas.interpreter import Interpreter, interpret

SCOPE = Scope(
    names={"x": T.NUMBER, "y": T.NUMBER, "name": T.TEXT, "needs": T.LIST, "members": T.MEMBERS,
           "dob": T.DATE, "flag": T.BOOL, "table": T.TABLE},
    member_names={"income": T.NUMBER, "dob": T.DATE},
    constants={"table": {"a": {"b": "text"}}},
)

# what the interpreter sees when it is called directly, without the checker
NAMES = {"x": 2, "y": 3, "name": "abc", "needs": ["a", "b"], "members": [{"income": 1}], "flag": True}

# (source, the code the checker gives)
ESCAPES = [
    # the classic: walk from a literal to every class in the process
    ("().__class__.__base__.__subclasses__()", "E402"),
    ('"".__class__', "E402"),
    ('"".__class__.__mro__[1].__subclasses__()', "E402"),
    ("x.__class__", "E402"),
    ("name.format(x)", "E402"),
    ("age.__globals__", "E402"),
    ("(age(dob)).__class__", "E402"),
    # generator frames (simpleeval < 1.0.0)
    ("(x for x in ()).gi_frame.f_back", "E402"),
    ("(x for x in ())", "E404"),
    ("count(c for c in needs)", "E404"),
    ("[c for c in ()]", "E404"),
    ("[c.gi_frame for c in [(y for y in ())]]", "E404"),
    ("{c: 1 for c in needs}", "E404"),
    ("{c for c in needs}", "E404"),
    # builtins and modules
    ("__import__('os')", "E413"),
    ("__import__('os').system('true')", "E402"),
    ("os", "E410"),
    ("sys", "E410"),
    ("__builtins__", "E410"),
    ("os.system('true')", "E402"),
    ("open('/etc/passwd')", "E413"),
    ("open", "E410"),
    ("eval('1')", "E413"),
    ("exec('1')", "E413"),
    ("compile('1', 'f', 'eval')", "E413"),
    ("getattr(x, 'real')", "E413"),
    ("type(x)", "E413"),
    ("globals()", "E413"),
    ("locals()", "E413"),
    ("help()", "E413"),
    ("breakpoint()", "E413"),
    ("list(needs)", "E413"),
    ("dict()", "E413"),
    # operator.attrgetter / itemgetter / methodcaller style (simpleeval < 1.0.8)
    ("attrgetter('__class__')(x)", "E413"),
    ("attrgetter('x')", "E413"),
    ("itemgetter(0)(needs)", "E413"),
    ("methodcaller('upper')(name)", "E413"),
    # lambdas, keyword and star arguments, assignment
    ("lambda: 1", "E404"),
    ("(lambda: 1)()", "E413"),
    ("(lambda x=age: x)()", "E413"),
    ("age(dob=dob)", "E414"),
    ("age(**table)", "E414"),
    ("max(*needs)", "E408"),
    ("max(x, *needs)", "E408"),
    ("(y := 1)", "E406"),
    ("count([y := 1])", "E406"),
    # f-strings, literals of the wrong kind, subscripts
    ('f"{x}"', "E405"),
    ('f"{().__class__}"', "E405"),
    ('f"{x!r:>{10**8}}"', "E405"),
    ("{1: 2}", "E407"),
    ("{1, 2}", "E407"),
    ("{os}", "E407"),
    ("needs[0]", "E403"),
    ("name[::-1]", "E403"),
    ("table['a']", "E403"),
    # operators outside the language
    ("x << 10000", "E401"),
    ("~x", "E401"),
    ("x is x", "E401"),
    ("...", "E401"),
    ("b'x' == b'x'", "E401"),
    # resources
    ("9**9**9", "E409"),
    ("10**1000", "E409"),
    ("x ** 101", "E409"),
    ("x ** -(10**9)", "E409"),
    ('"a" * 100000000', "E503"),
    ("'ab' * x", "E503"),
    ("-" * 100 + "10**1000", "E409"),
]

# Size limits of the source itself (length, nesting): checked at load; an interpreter handed
# such a tree directly still evaluates it in bounded time and memory (see the deadline and
# deep-tree tests below).
SOURCE_LIMITS = [
    ('"' + "a" * 5000 + '"', "E409"),
    ('"' + "a" * 1001 + '"', "E409"),
    ("x + " * 1200 + "x", "E409"),
    ("-" * 200 + "x", "E409"),
    ("not " * 100 + "flag", "E409"),
]

# sources Python cannot parse as an expression: refused at load, never reach an interpreter
UNPARSABLE = [
    "import os",
    "from os import system",
    "__import__('os'); 1",
    "x = 1",
    "def f(): pass",
    "exec 'x'",
    "((((" * 125 + "1" + "))))" * 125,
    "[" * 300 + "]" * 300,
    "x +",
    "\x00",
]


def _ids(cases):
    return [src[:40] for src, *_ in cases]


@pytest.mark.parametrize(("src", "code"), ESCAPES + SOURCE_LIMITS, ids=_ids(ESCAPES + SOURCE_LIMITS))
def test_refused_at_load_with_a_clear_error(src, code):
    with pytest.raises(FormulaError) as exc:
        compile_formula(src, SCOPE)
    error = exc.value
    assert error.code == code, str(error)
    assert error.message
    assert error.line >= 1 and error.col >= 0
    assert str(error).startswith(code)


@pytest.mark.parametrize("src", UNPARSABLE, ids=[s[:30] for s in UNPARSABLE])
def test_unparsable_is_refused_at_load(src):
    with pytest.raises(FormulaError) as exc:
        compile_formula(src, SCOPE)
    assert exc.value.code in ("E400", "E409")


@pytest.mark.parametrize(("src", "code"), ESCAPES, ids=_ids(ESCAPES))
def test_the_interpreter_refuses_on_its_own(src, code):
    """Without the checker: the interpreter alone refuses, with its own error."""
    try:
        tree = ast.parse(src, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pytest.skip("Python itself does not parse it")
    with pytest.raises(FormulaRuntimeError):
        interpret(tree, dict(NAMES), date.today())


@pytest.mark.parametrize("src", ["import os", "from os import system", "x = 1", "def f(): pass"])
def test_the_interpreter_refuses_statements(src):
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse(src), dict(NAMES), date.today())


@pytest.mark.parametrize(("src", "code"), ESCAPES, ids=_ids(ESCAPES))
def test_the_code_generator_has_no_handler_for_constructs_outside_the_language(src, code):
    """compile_formula refuses before code generation; and if a bad tree ever reached the
    generator, it could not turn attributes, subscripts, lambdas, comprehensions, f-strings,
    dicts, sets, star-args or ':=' into code."""
    try:
        tree = ast.parse(src, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pytest.skip("Python itself does not parse it")
    forbidden = (ast.Attribute, ast.Subscript, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                 ast.GeneratorExp, ast.JoinedStr, ast.Dict, ast.Set, ast.Starred, ast.NamedExpr)
    if any(isinstance(node, forbidden) for node in ast.walk(tree)):
        with pytest.raises(Exception):  # noqa: B017 - any refusal: no function is produced
            compile_tree(tree, constants={}, member_names=())


# ---- the published simpleeval escapes, one by one ------------------------------------


def test_installed_simpleeval_has_the_published_fixes():
    version = metadata.version("simpleeval")
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:3])
    assert numbers >= (1, 0, 8), version


def test_generator_frames_are_unreachable():
    """simpleeval < 1.0.0: a generator's gi_frame.f_back reached the evaluator's frame."""
    for src in ["(x for x in ()).gi_frame.f_back", "[x for x in ()]", "(x for x in needs)"]:
        with pytest.raises(FormulaError):
            compile_formula(src, SCOPE)
        with pytest.raises(FormulaRuntimeError):
            interpret(ast.parse(src, mode="eval"), dict(NAMES), date.today())


@pytest.mark.parametrize("module", [os, sys, operator])
def test_modules_passed_in_names_are_refused(module):
    """CVE-2026-32640 (simpleeval < 1.0.5): a module reachable through a name or an
    attribute gave access to everything in it. Even if a caller put a module among the
    values, the interpreter refuses to hand it out, alone or inside a list or a table."""
    for names in ({"m": module}, {"m": [1, module]}, {"m": (module,)}, {"m": {"k": module}}):
        with pytest.raises(FormulaRuntimeError):
            interpret(ast.parse("m", mode="eval"), names, date.today())
        with pytest.raises(FormulaRuntimeError):
            interpret(ast.parse("m == 1", mode="eval"), names, date.today())
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse("m.system('true')", mode="eval"), {"m": module}, date.today())
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse("m.path", mode="eval"), {"m": module}, date.today())


def test_modules_are_not_names_of_the_language():
    for src in ["os", "sys", "__builtins__", "os.system", "sys.modules", "__builtins__.open"]:
        with pytest.raises(FormulaError):
            compile_formula(src, SCOPE)
        with pytest.raises(FormulaRuntimeError):
            interpret(ast.parse(src, mode="eval"), dict(NAMES), date.today())


@pytest.mark.parametrize("getter", [operator.attrgetter, operator.itemgetter, operator.methodcaller])
def test_operator_getters_are_refused(getter):
    """simpleeval < 1.0.8: operator.attrgetter/itemgetter/methodcaller, reachable as values,
    read any attribute of anything."""
    name = getter.__name__
    with pytest.raises(FormulaError) as exc:
        compile_formula(f"{name}('__class__')(x)", SCOPE)
    assert exc.value.code == "E413"
    # not callable by name from the interpreter
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse(f"{name}('__class__')", mode="eval"), dict(NAMES), date.today())
    # nor handed out when a caller put one among the values, alone or inside a list
    for names in ({"g": getter}, {"g": [getter]}):
        with pytest.raises(FormulaRuntimeError):
            interpret(ast.parse("g", mode="eval"), names, date.today())
    # and a value is never callable: only the language's functions are, by name
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse("g('__class__')(x)", mode="eval"), {"g": getter, "x": 1}, date.today())
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse("g(x)", mode="eval"), {"g": getter("real"), "x": 1}, date.today())


def test_set_contents_are_checked():
    """simpleeval < 1.0.8: forbidden things hidden inside a set were not looked at."""
    for names in ({"s": {os}}, {"s": frozenset({os})}, {"s": {operator.attrgetter}},
                  {"s": [frozenset({sys})]}):
        with pytest.raises(FormulaRuntimeError):
            interpret(ast.parse("s", mode="eval"), names, date.today())
    with pytest.raises(FormulaError):
        compile_formula("{os}", SCOPE)
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse("{x}", mode="eval"), dict(NAMES), date.today())


# ---- names are data only ------------------------------------------------------------


@pytest.mark.parametrize("src", ["age", "date", "count", "lookup", "max"])
def test_a_function_name_is_not_a_value(src):
    with pytest.raises(FormulaError) as exc:
        compile_formula(src, SCOPE)
    assert exc.value.code == "E411"
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse(src, mode="eval"), {}, date.today())


def test_a_value_is_never_called():
    with pytest.raises(FormulaError):
        compile_formula("x()", SCOPE)
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse("f()", mode="eval"), {"f": print}, date.today())


# ---- resources -------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "y"), [(10, 10**6), (10, 101), (10**20, 2), (2, -1000), (Decimal("1.5"), 10**9)])
def test_huge_powers_at_run_time_are_refused(x, y):
    formula = compile_formula("x ** y", SCOPE)
    with pytest.raises(FormulaRuntimeError, match="power too large"):
        formula.evaluate({"x": x, "y": y}, date.today())
    with pytest.raises(FormulaRuntimeError, match="power too large"):
        formula.interpret({"x": x, "y": y}, date.today())


def test_long_text_at_run_time_is_refused():
    formula = compile_formula("name + name", Scope(names={"name": T.TEXT}))
    assert formula.evaluate({"name": "ab"}, date.today()) == "abab"
    with pytest.raises(FormulaRuntimeError, match="longer than"):
        formula.evaluate({"name": "a" * 6000}, date.today())


@pytest.mark.parametrize("src", ['"a" * 100000000', '"a" * 10**12', "name * 3", "needs * 100000000",
                                 "'%0999999999d' % 1", "name // 2"])
def test_the_interpreter_refuses_repeating_or_formatting_text(src):
    """'*' and '%' on text would repeat or format it (memory); only numbers multiply."""
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse(src, mode="eval"), dict(NAMES), date.today())


def test_a_table_cell_of_text_is_not_repeated_by_the_compiled_path():
    scope = Scope(names={"table": T.TABLE, "n": T.NUMBER}, constants={"table": {"a": {"b": "text"}}})
    formula = compile_formula('lookup(table, "a", "b") * n', scope)  # the cell's type is unknown
    with pytest.raises(FormulaRuntimeError, match="needs two numbers"):
        formula.evaluate({"n": 10**9}, date.today())
    with pytest.raises(Exception):  # noqa: B017 - the raw compiled function refuses too
        formula.function({"n": 10**9}, date.today())


def test_deep_nesting_is_an_error_not_a_crash():
    for src in ["(" * 500 + "x" + ")" * 500, "-" * 500 + "x", "x" + " + x" * 990,
                "not " * 800 + "flag", "age(" * 300 + "dob" + ")" * 300]:
        with pytest.raises(FormulaError):
            compile_formula(src, SCOPE)


def test_the_interpreter_survives_a_very_deep_tree():
    node: ast.expr = ast.Name(id="x", ctx=ast.Load())
    for _ in range(20_000):
        node = ast.UnaryOp(op=ast.USub(), operand=node)
    tree = ast.Expression(body=node)
    with pytest.raises(FormulaRuntimeError):
        interpret(tree, {"x": 1}, date.today())


def test_the_interpreter_has_a_deadline():
    tree = ast.parse("count(members, income > 0)", mode="eval")
    evaluator = Interpreter({"members": [{"income": 1}] * 10}, date.today(), member_names={"income"},
                            time_limit=-1)
    with pytest.raises(FormulaRuntimeError, match="too long"):
        evaluator._eval(tree)


@pytest.mark.parametrize("src", ["count()", "sum(members)", "any(members)", "any(members, flag, flag)",
                                 "count(members, income > 0, flag)", "count(x, flag)", "sum(members, ghost)"])
def test_the_interpreter_refuses_malformed_aggregates(src):
    with pytest.raises(FormulaRuntimeError):
        interpret(ast.parse(src, mode="eval"), dict(NAMES), date.today(), member_names={"income"})


def test_a_formula_that_is_not_text():
    with pytest.raises(FormulaError):
        compile_formula(None, SCOPE)  # type: ignore[arg-type]
    assert compile_formula(3, SCOPE).evaluate({}, date.today()) == 3  # type: ignore[arg-type]


# ---- the compiled path: our identifiers only -------------------------------------------

GENERATED_NAME = re.compile(r"^(_v|_asof|_m|_k\d+|_f_[a-z_]+|True|False)$")

FORMULAS = [
    "x + y * 2 > 3 and not flag",
    "count(members, income > x) >= 1",
    "sum(members, income) / 2",
    "any(members, age(dob) >= 60) or all(members, income < y)",
    'name in ("a", "b") and name + "x" == "ax"',
    'lookup(table, "a", "b") == name',
    "dob + 3 if flag else dob - 3",
    "count(needs) + max(x, y, 1.5) - round(x / 3, 2)",
    # user names that look like code stay string keys
    "__class__ + 1",
    "_v + _asof + _m + _k1",
]

HOSTILE_SCOPE = Scope(
    names={**SCOPE.names, "__class__": T.NUMBER, "_v": T.NUMBER, "_asof": T.NUMBER, "_m": T.NUMBER,
           "_k1": T.NUMBER},
    member_names=SCOPE.member_names,
    constants=SCOPE.constants,
)


@pytest.mark.parametrize("text", FORMULAS)
def test_generated_code_uses_only_generated_identifiers(text):
    formula = compile_formula(text, HOSTILE_SCOPE)
    source = formula.function.__source__
    tree = ast.parse(source, mode="eval")
    assert isinstance(tree.body, ast.Lambda)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            assert GENERATED_NAME.match(node.id), (node.id, source)
        if isinstance(node, ast.Attribute):
            # the only attribute: reading a value by its key
            assert node.attr == "get" and isinstance(node.value, ast.Name), source
            assert node.value.id in ("_v", "_m"), source
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant), source
            assert isinstance(node.args[0].value, str), source
        assert not isinstance(node, (ast.Subscript, ast.Starred, ast.NamedExpr, ast.JoinedStr,
                                     ast.Dict, ast.Set, ast.Import, ast.ImportFrom)), source
    assert formula.function.__globals__["__builtins__"] == {}


def test_user_names_that_look_like_generated_ones_are_only_keys():
    formula = compile_formula("_v + _asof + _m + _k1 + __class__", HOSTILE_SCOPE)
    values = {"_v": 1, "_asof": 2, "_m": 3, "_k1": 4, "__class__": 5}
    assert formula.evaluate(values, date.today()) == 15
    assert formula.interpret(values, date.today()) == 15
