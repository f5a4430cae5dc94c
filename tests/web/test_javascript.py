"""Formulas in the browser mean what they mean on the server.

Each formula is turned into JavaScript (formulas/javascript.py) and run in node with
the page's runtime (web/static/forms.js) on the same records as the Python
evaluation; both must give the same value, or both fail. Skipped without node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, ROOT
from openscheme.definitions import compile_file
from openscheme.evaluation.records import validate_record
from openscheme.formulas import FormulaRuntimeError, Scope, T, compile_formula
from openscheme.formulas.javascript import Unsupported, js_value, scheme_javascript, to_javascript

NODE = shutil.which("node")
RUNTIME = ROOT / "platform" / "openscheme" / "web" / "static" / "forms.js"
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

AS_OF = date(2024, 6, 15)
SCOPE = Scope(
    names={"n1": T.NUMBER, "n2": T.NUMBER, "k": T.NUMBER, "d1": T.DATE, "d2": T.DATE, "t": T.TEXT,
           "b1": T.BOOL, "needs": T.LIST, "area": T.LIST, "members": T.MEMBERS, "rates": T.TABLE},
    member_names={"dob": T.DATE, "sex": T.TEXT, "income": T.NUMBER},
    constants={"k": 60, "area": ("a", "b"), "rates": {"a": 1, "b": Decimal("2.5")}},
    choices={"t": frozenset({"a", "b", "c"}), "needs": frozenset({"x", "y", "z"}),
             "sex": frozenset({"male", "female"})},
)

HARNESS = """
const {R} = require(process.argv[1]);
function decode(x) {
  if (Array.isArray(x)) return x.map(decode);
  if (x && typeof x === "object") {
    if ("$date" in x) return R.date(x["$date"]);
    const out = {}; for (const k of Object.keys(x)) out[k] = decode(x[k]); return out;
  }
  return x;
}
function encode(x) {
  if (x instanceof Date) return {"$date": x.toISOString().slice(0, 10)};
  if (Array.isArray(x)) return x.map(encode);
  if (x === undefined) return null;
  return x;
}
let input = ""; process.stdin.on("data", d => input += d);
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(c => {
    R.asOf = R.date(c.as_of);
    const values = decode(c.values);
    try {
      const f = eval("(" + c.code + ")");
      return {ok: true, value: encode(f(name => values[name] === undefined ? null : values[name], R))};
    } catch (e) { return {ok: false, error: String(e && e.message || e)}; }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def encode(value):
    """A Python value in the JSON the harness reads (and the shape its answers come back in)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal, float)):
        return float(value)
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(type(value))


def run_node(cases: list[dict]) -> list[dict]:
    result = subprocess.run([NODE, "-e", HARNESS, str(RUNTIME)], input=json.dumps(cases),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def python_result(formula, values, as_of=AS_OF) -> dict:
    try:
        return {"ok": True, "value": encode(formula.evaluate(values, as_of))}
    except FormulaRuntimeError as exc:
        return {"ok": False, "error": exc.message}


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b and type(a) is type(b)


def compare(pairs: list[tuple[str, dict]], scope: Scope = SCOPE, as_of: date = AS_OF) -> None:
    """Evaluate each (formula, record) in Python and in node; report every disagreement."""
    formulas = [compile_formula(text, scope) for text, _ in pairs]
    cases = [{"code": to_javascript(f), "values": encode(values), "as_of": as_of.isoformat()}
             for f, (_, values) in zip(formulas, pairs, strict=True)]
    answers = run_node(cases)
    problems = []
    for (text, values), formula, js in zip(pairs, formulas, answers, strict=True):
        py = python_result(formula, values, as_of)
        agree = (py["ok"] == js["ok"]) and (not py["ok"] or same(py["value"], js["value"]))
        if not agree:
            problems.append(f"{text!r} on {values}: python {py}, javascript {js}")
    assert not problems, "\n".join(problems)


MEMBERS = [
    {"dob": date(1950, 2, 28), "sex": "female", "income": Decimal("1200.50")},
    {"dob": date(2010, 6, 15), "sex": "male", "income": 0},
    {"dob": date(2020, 2, 29), "sex": "female", "income": 300},
]
RECORDS = [
    {"n1": 7, "n2": Decimal("2.5"), "d1": date(1980, 2, 29), "d2": date(2024, 1, 31), "t": "a", "b1": True,
     "needs": ["x", "z"], "members": MEMBERS},
    {"n1": -3, "n2": 0, "d1": date(2024, 6, 15), "d2": date(2023, 12, 1), "t": "c", "b1": False, "needs": [],
     "members": []},
    {"n1": None, "n2": None, "d1": None, "d2": None, "t": None, "b1": None, "needs": None, "members": None},
    {"n1": 100, "n2": Decimal("0.125"), "d1": date(2000, 1, 1), "t": "", "b1": True, "members": MEMBERS[:1]},
]
FORMULAS = [
    "n1 + n2", "n1 - n2 * 2", "n1 / 4", "n2 / n1", "n1 ** 2", "2 ** -1", "-n1", "+n2", "n1 // 2", "n1 % 3",
    "n1 > 5", "n1 >= n2", "n1 == 7", "n1 != n2", "0 < n1 < 10", "1 < 2 < n1 < 50",
    "b1", "not b1", "b1 and n1 > 0", "b1 or n1 > 0", "b1 and present(t)", "present(n1) and n1 > 3",
    "not present(d1) or d1 < today()",
    "t == \"a\"", "t != \"b\"", "t in (\"a\", \"b\")", "t not in area", "\"x\" in needs", "\"y\" not in needs",
    "\"ab\" in \"cabd\"", "t + \"!\"", "\"a\" + \"b\" == \"ab\"",
    "n1 if b1 else n2", "(n1 if n1 > 0 else -n1) + 1",
    "age(d1)", "age(d1, d2)", "age(d1) >= 18", "years_between(d1, d2)", "months_between(d1, d2)",
    "days_between(d1, d2)", "d2 - d1", "d1 + 30", "30 + d1", "d1 - 1", "d1 < d2", "d1 == d2",
    "d1 == date(\"1980-02-29\")", "add_days(d1, 10)", "add_months(d2, 1)", "add_months(d1, -13)",
    "add_years(d1, 1)", "year(d1)", "month(d2)", "today()", "date(\"2024-03-01\") - 1",
    "min(n1, 3)", "max(n1, n2, 1)", "round(n2)", "round(n1 / 3, 2)", "round(2.5)", "round(-2.5)",
    "round(1.005, 2)", "floor(n2)", "ceil(n2)", "abs(n1)", "floor(-2.5)",
    "present(n1)", "present(t)", "present(needs)", "coalesce(n1, 0) + 1", "coalesce(t, \"none\")",
    "count(members)", "count(members, age(dob) >= 18)", "count(members, sex == \"female\" and income > 100)",
    "sum(members, income)", "sum(members, income) / max(count(members), 1)", "any(members, age(dob) < 5)",
    "all(members, present(dob))", "any(members, sex == t)", "count(members, age(dob, d2) >= n1)",
    "count(needs)", "count(area)", "k * 2", "area == [\"a\", \"b\"]", "true", "false or b1",
]


@needs_node
def test_formulas_agree_with_python_on_every_record():
    compare([(text, record) for text in FORMULAS for record in RECORDS])


@needs_node
@pytest.mark.parametrize("born, as_of, expected", [
    (date(2000, 2, 29), date(2018, 2, 28), 17), (date(2000, 2, 29), date(2018, 3, 1), 18),
    (date(1990, 12, 31), date(2024, 12, 30), 33), (date(1990, 12, 31), date(2024, 12, 31), 34),
])
def test_age_on_birthdays(born, as_of, expected):
    compare([("age(d1)", {"d1": born})], as_of=as_of)


FREE_TEXT = replace(SCOPE, choices={})  # t without a choice list: any literal is allowed


def test_names_and_text_are_data_never_code():
    evil = '"); alert(1); ("'
    f = compile_formula(f"t == {json.dumps(evil)}", FREE_TEXT)
    code = to_javascript(f)
    assert "alert(1); (" in code and '\\"); alert(1); (\\"' in code
    assert js_value("</script>") == '"<\\/script>"'
    assert js_value("\u2028") == '"\\u2028"'
    assert js_value(Decimal("-1.50")) == "(-1.50)"
    assert js_value(date(2020, 1, 2)) == 'R.date("2020-01-02")'


@needs_node
def test_injected_text_stays_a_string():
    evil = '"); throw 1; ("'
    compare([(f"t == {json.dumps(evil)}", {"t": evil}), (f"t + {json.dumps(evil)}", {"t": "x"})], FREE_TEXT)


def test_lookup_is_left_to_the_server():
    with pytest.raises(Unsupported):
        to_javascript(compile_formula('lookup(rates, t) > 1', SCOPE))


def example_schemes():
    return [compile_file(p).scheme for p in sorted(EXAMPLES.glob("*.yaml"))]


@needs_node
def test_every_example_script_is_valid_javascript(tmp_path: Path):
    for scheme in example_schemes():
        script = tmp_path / f"{scheme.code}.js"
        script.write_text(scheme_javascript(scheme))
        result = subprocess.run([NODE, "--check", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (scheme.code, result.stderr)
    educash = next(s for s in example_schemes() if s.code == "cm-educash")
    assert "pmt_score" not in scheme_javascript(educash)  # uses lookup(): the server computes it


@needs_node
def test_example_conditions_agree_with_python_on_the_examples_own_test_records():
    """Each scheme's relevance and calculations, on the records of its embedded tests."""
    pairs_by_scheme = []
    for scheme in example_schemes():
        for case in scheme.tests:
            as_of = case.as_of or AS_OF
            values = validate_record(scheme, dict(case.data), as_of=as_of).values
            members = values.get("members") or []
            for f in scheme.fields + scheme.member_fields:
                for formula in (f.relevant, f.calculate, f.required_when):
                    if formula is None:
                        continue
                    try:
                        code = to_javascript(formula)
                    except Unsupported:
                        continue
                    contexts = [values] if f.scope == "unit" else [values | m for m in members]
                    pairs_by_scheme.extend((formula, code, ctx, as_of) for ctx in contexts)
    assert len(pairs_by_scheme) > 20
    cases = [{"code": code, "values": encode(ctx), "as_of": as_of.isoformat()}
             for _, code, ctx, as_of in pairs_by_scheme]
    answers = run_node(cases)
    for (formula, _, ctx, as_of), js in zip(pairs_by_scheme, answers, strict=True):
        py = python_result(formula, ctx, as_of)
        assert py["ok"] == js["ok"] and (not py["ok"] or same(py["value"], js["value"])), (formula.text, py, js)


# ---- random formulas ---------------------------------------------------------------------

number_leaf = st.sampled_from(["n1", "n2", "k", "0", "1", "3", "12", "2.5", "0.1", "100"])
date_leaf = st.sampled_from(["d1", "d2", "today()", 'date("2000-02-29")', 'date("2023-12-31")'])


def numbers(depth: int):
    if depth == 0:
        return number_leaf
    n, d = numbers(depth - 1), dates(depth - 1)
    return st.one_of(
        number_leaf,
        st.tuples(n, st.sampled_from(["+", "-", "*", "/"]), n).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        n.map(lambda a: f"(-{a})"),
        d.map(lambda a: f"age({a})"),
        st.tuples(d, d).map(lambda x: f"days_between({x[0]}, {x[1]})"),
        st.tuples(d, d).map(lambda x: f"months_between({x[0]}, {x[1]})"),
        st.tuples(n, n).map(lambda x: f"min({x[0]}, {x[1]})"),
        n.map(lambda a: f"round({a}, 1)"),
        n.map(lambda a: f"floor({a})"),
        st.tuples(n, n).map(lambda x: f"coalesce({x[0]}, {x[1]})"),
        st.just("count(members, age(dob) >= 18)"),
        st.just("sum(members, income)"),
        st.tuples(booleans(depth - 1), n, n).map(lambda x: f"({x[1]} if {x[0]} else {x[2]})"),
    )


def dates(depth: int):
    if depth == 0:
        return date_leaf
    n, d = numbers(depth - 1), dates(depth - 1)
    return st.one_of(
        date_leaf,
        st.tuples(d, st.sampled_from(["1", "30", "365", "n1"])).map(lambda x: f"add_days({x[0]}, {x[1]})"),
        st.tuples(d, st.sampled_from(["1", "-1", "13"])).map(lambda x: f"add_months({x[0]}, {x[1]})"),
        st.tuples(d, n).map(lambda x: f"({x[0]} + {x[1]})"),
    )


def booleans(depth: int):
    leaf = st.sampled_from(["b1", "true", 'present(t)', 'present(d1)', '"x" in needs', 't in area'])
    if depth == 0:
        return leaf
    n, d, b = numbers(depth - 1), dates(depth - 1), booleans(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(n, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), n).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        st.tuples(d, st.sampled_from(["<", "==", ">="]), d).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        st.tuples(b, st.sampled_from(["and", "or"]), b).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        b.map(lambda a: f"(not {a})"),
        st.just('any(members, sex == "female" and age(dob) < 80)'),
        st.just('t == "a"'),
    )


values = st.fixed_dictionaries({
    "n1": st.one_of(st.none(), st.integers(-20, 500)),
    "n2": st.one_of(st.none(), st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False,
                                           allow_infinity=False)),
    "d1": st.one_of(st.none(), st.dates(date(1930, 1, 1), date(2030, 12, 31))),
    "d2": st.one_of(st.none(), st.dates(date(1930, 1, 1), date(2030, 12, 31))),
    "t": st.sampled_from([None, "", "a", "b", "c"]),
    "b1": st.sampled_from([None, True, False]),
    "needs": st.one_of(st.none(), st.lists(st.sampled_from(["x", "y", "z"]), unique=True)),
    "members": st.sampled_from([None, [], MEMBERS, MEMBERS[:1]]),
})


@needs_node
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.one_of(numbers(2), dates(2), booleans(2)), values), min_size=40, max_size=40))
def test_random_formulas_agree_with_python(batch):
    compare(batch)
