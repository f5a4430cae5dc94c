"""What a formula says when it cannot produce a value for a record, in English and French
(formulas/runtime_messages.py).

Every raise site of `FormulaRuntimeError` keeps its English `message` byte for byte (the logs,
the CLI and older tests read it; the expected texts below were captured from the code before
the messages had keys); it also carries a key and language-neutral params that say it in French.
"""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from test_language import AS_OF, SCOPE

from english_left import EnglishLeft
from openscheme.evaluation import engine
from openscheme.formulas import FormulaRuntimeError, compile_formula
from openscheme.formulas import functions as fn
from openscheme.formulas.errors import runtime_error
from openscheme.formulas.interpreter import Interpreter, interpret
from openscheme.formulas.messages import MESSAGES, Said, placeholders, said_text
from openscheme.formulas.runtime_messages import RUNTIME_KEYS, RUNTIME_MESSAGES


def formula(text: str, **values):
    """Evaluate a checked formula (the compiled path, then the interpreter's error)."""
    return lambda: compile_formula(text, SCOPE).evaluate(values, AS_OF)


def raw(text: str, names: dict | None = None, **kw):
    """The interpreter alone on a tree the checker never saw (its own guard rails)."""
    return lambda: interpret(ast.parse(text, mode="eval"), dict(names or {}), AS_OF, source=text, **kw)


def too_slow():
    Interpreter({}, AS_OF, time_limit=-1)._eval(ast.parse("1 + 1", mode="eval"))


WAGE_SCHEME = SimpleNamespace(contributions=SimpleNamespace(wage=SimpleNamespace(field="salary")))

# (id, what raises, its key, its English message as it always read)
CASES = [
    # formulas/functions.py
    ("no_value", lambda: fn.years_between(None, AS_OF), "run_no_value", "the first date has no value"),
    ("no_value_date_text", lambda: fn.to_date(None), "run_no_value", "the date text has no value"),
    ("no_value_round", lambda: fn.round_half_up(None), "run_no_value", "the number to round has no value"),
    ("no_value_min", lambda: fn.min_(1, None), "run_no_value", "a value has no value"),
    ("no_value_column", lambda: fn.lookup({"a": {}}, "a", None), "run_no_value", "the column has no value"),
    ("not_a_date", formula('date(name) > dob', name="2024-13-01", dob=AS_OF), "run_not_a_date",
     "'2024-13-01' is not a date (write YYYY-MM-DD)"),
    ("not_a_date_number", lambda: fn.to_date(5), "run_not_a_date", "'5' is not a date (write YYYY-MM-DD)"),
    ("division_by_zero", formula("income / size", income=10, size=0), "run_division_by_zero", "division by zero"),
    ("division_no_result", lambda: fn.divide(Decimal("Infinity"), Decimal("Infinity")), "run_division_no_result",
     "the division has no result"),
    ("power_too_large", formula("2 ** size", size=200), "run_power_too_large",
     "power too large (exponent at most 100, base at most 1000000000000000)"),
    ("power_no_result", formula("income ** 0.5", income=-8), "run_power_no_result", "the power has no result"),
    ("needs_numbers", lambda: fn.multiply("a", 2), "run_needs_numbers", "'*' needs two numbers"),
    ("needs_numbers_modulo", lambda: fn.modulo("a", 2), "run_needs_numbers", "'%' needs two numbers"),
    ("text_too_long", formula("name + name", name="x" * 6000), "run_text_too_long", "text longer than 10000 characters"),
    ("lookup_needs_table", lambda: fn.lookup("x", 1), "run_lookup_needs_table", "lookup() needs a table"),
    ("no_row", formula("lookup(rates, district, 'amount') > 0", district="west"), "run_no_row",
     "no row 'west' in the table"),
    ("no_row_number", lambda: fn.lookup({"a": 1}, 7), "run_no_row", "no row '7' in the table"),
    ("no_column", formula("lookup(rates, district, name) > 0", district="north", name="rate"), "run_no_column",
     "no column 'rate' in the table"),
    # formulas/interpreter.py
    ("member_not_record", formula("count(members, income > 0)", members=[5]), "run_member_not_record",
     "a member of the list is not a record"),
    ("too_slow", too_slow, "run_too_slow", "the formula took too long to evaluate"),
    ("unknown_name", raw("zzz + 1"), "run_unknown_name", "unknown name 'zzz'"),
    ("literal", raw("None"), "run_literal_not_allowed", "the literal None is not allowed in formulas"),
    ("literal_bytes", raw("b'x'"), "run_literal_not_allowed", "the literal b'x' is not allowed in formulas"),
    ("operator", raw("1 | 2"), "run_operator_not_allowed", "the operator 'BitOr' is not allowed"),
    ("name_no_value", formula("income + 1"), "run_name_no_value", "'income' has no value"),
    ("name_no_value_sign", formula("-income > 0"), "run_name_no_value", "'income' has no value"),
    ("name_no_value_compare", formula("income > 1"), "run_name_no_value", "'income' has no value"),
    ("floor_division_by_zero", formula("income // size", income=10, size=0), "run_division_by_zero", "division by zero"),
    ("cannot_compute", raw("x - 1", {"x": "a"}), "run_cannot_compute", "cannot compute 'x - 1'"),
    ("cannot_compare", raw("x > 1", {"x": "a"}), "run_cannot_compare", "cannot compare 'x > 1'"),
    ("only_functions", raw("abs(x=1)"), "run_only_functions", "only the formula language's functions can be called"),
    ("unknown_function", raw("zzz(1)"), "run_unknown_function", "unknown function 'zzz'"),
    ("argument_no_value", formula("age(dob) > 3"), "run_argument_no_value", "'dob' has no value (age() needs one)"),
    ("lookup_needs_table_interpreter", raw("lookup(t, 1)", {"t": 5}), "run_lookup_needs_table",
     "lookup() needs a table"),
    ("aggregate_arguments", raw("any(members)", {"members": []}), "run_aggregate_arguments",
     "any() takes the members and a condition"),
    ("member_no_value", formula("sum(members, income) > 0", members=[{"income": 1}, {"income": None}]),
     "run_member_no_value", "'income' has no value for a member"),
    ("refused", raw("x[0]", {"x": [1]}), "run_refused", "Sorry, Subscript is not available in this evaluator"),
    ("cannot_evaluate", formula("add_days(dob, size) > dob", dob=AS_OF, size=10**10), "run_cannot_evaluate",
     "cannot evaluate: Python int too large to convert to C int"),
    # evaluation/engine.py
    ("money_too_large", lambda: engine.money(Decimal("1e20")), "run_too_large", "the amount is too large (1.000e+20)"),
    ("premium_no_value", lambda: engine.as_amount(None, "the premium"), "run_no_value", "the premium has no value"),
    ("amount_too_large", lambda: engine.as_amount(Decimal("1e16"), "the amount"), "run_too_large",
     "the amount is too large (1.000e+16)"),
    ("wage_no_value", lambda: engine.compute_wage_contribution(WAGE_SCHEME, {}), "run_name_no_value",
     "'salary' has no value"),
]


def raised(make) -> FormulaRuntimeError:
    with pytest.raises(FormulaRuntimeError) as info:
        make()
    return info.value


@pytest.mark.parametrize(("make", "key", "english"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_raise_site_says_in_english_what_it_always_said_and_in_french_too(make, key, english):
    exc = raised(make)
    assert exc.message == english == str(exc)
    assert exc.said is not None and exc.said.key == key
    assert exc.text("en") == english == exc.said.text("en")
    french = exc.text("fr")
    assert french and french != english
    # kept in a database and said again: JSON, the same English, the same French
    kept = json.loads(json.dumps(exc.as_param()))
    assert kept["en"] == english and said_text(kept, "en") == english and said_text(kept, "fr_FR") == french


def test_a_negative_amount_says_what_it_always_said():
    from openscheme.definitions import compile_text

    scheme = compile_text(NEGATIVE, "neg.yaml").scheme
    ev = engine.evaluate(scheme, {"income": 250}, as_of=AS_OF)
    b = ev.benefit("grant")
    assert b.lines == ["cannot be computed: the amount is negative (-150): nothing can be paid"]
    assert b.parts[0][1]["error"]["key"] == "run_negative_amount"
    assert b.lines_in("fr") == ["calcul impossible : le montant est négatif (-150) : rien ne peut être payé"]


NEGATIVE = """
scheme: {code: xx-neg, version: 1, title: {en: N}, country: CM, currency: XAF, languages: [en],
         benefit_kinds: [cash], unit: individual, illustrative: true}
fields:
  - {name: income, type: integer, label: {en: Income}}
benefits:
  - {code: grant, kind: cash, label: {en: Grant}, amount: 100 - income, schedule: {frequency: once, cycles: 1}}
"""


def test_the_cases_reach_every_runtime_key():
    assert {c[2] for c in CASES} | {"run_negative_amount"} == set(RUNTIME_KEYS)


def test_every_runtime_message_has_english_and_french_with_the_same_placeholders():
    for key, texts in RUNTIME_MESSAGES.items():
        assert set(texts) == {"en", "fr"}, key
        assert placeholders(texts["en"]) == placeholders(texts["fr"]), key
        assert texts["en"] != texts["fr"], key
        assert MESSAGES[key] is texts  # registered in the formula catalogue


# params as a French page would get them: formula text, names and numbers (no English words)
FRENCH_PARAMS = {"what": "the date of birth", "name": "revenu", "expr": "revenu / enfants", "symbol": "*",
                 "value": "None", "amount": "-150", "exponent": 100, "base": 1000, "max": 10000, "text": "2024-13-01",
                 "key": "ouest", "column": "taux", "op": "BitOr", "detail": "x"}
WHATS = ["the premium", "the amount", "the first date", "the second date", "the date", "the date of birth",
         "the date text", "the number of days", "the number of months", "the number of years",
         "the number to round", "the number", "a value", "the column"]


@pytest.mark.parametrize("key", sorted(RUNTIME_KEYS))
def test_every_runtime_key_renders_in_french_with_no_english_left(key):
    english = EnglishLeft(list(RUNTIME_MESSAGES.values()))
    needed = placeholders(RUNTIME_MESSAGES[key]["en"])
    whats = WHATS if "what" in needed else [None]
    for what in whats:
        params = {k: FRENCH_PARAMS[k] for k in needed} | ({"what": what} if what else {})
        french = Said(key, tuple(params.items())).text("fr")
        assert english.on(french) == [], (key, french)
        for word in ("the ", "has no", "value", "number", "cannot", "too large", "needs"):
            assert word not in french, (key, french)


def test_a_runtime_error_without_a_key_says_its_english():
    exc = FormulaRuntimeError("something else")
    assert exc.text("fr") == "something else" and exc.as_param() == "something else" and exc.said is None
    assert said_text("division by zero", "fr") == "division by zero"  # an English text stored before the keys
    assert said_text({"key": "run_gone", "params": {}, "en": "it was said so"}, "fr") == "it was said so"
    made = runtime_error("run_no_row", key="west")
    assert made.message == "no row 'west' in the table" and made.text("fr") == "la table n'a pas de ligne « west »"
