"""The formula checker's messages in English and French (formulas/messages.py).

Every error keeps its English `message` and `hint` as they always were (the CLI, the docs and
the fixtures read them); what it says is also data - a key and params - that renders the same
English and a French. Checked here on a corpus of broken formulas that reaches every message
of the checker, and on every broken definition of tests/fixtures/invalid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_language import SCOPE

from openscheme.definitions import compile_file
from openscheme.formulas import FormulaError, compile_formula
from openscheme.formulas.messages import FORMULA_KEYS, MESSAGES, placeholders, say

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"

# (formula, the key of its message, the key of its hint or None)
BROKEN = [
    ("   ", "empty", None),
    ("1 + " * 1001 + "1", "too_long", "hint_split"),
    ("income > 0 # note", "comment", "hint_comment_outside"),
    ("income = 3", "syntax_invalid", "hint_compare_equals"),
    ("income >", "syntax_invalid", None),
    ("(income > 0", "syntax_unbalanced", None),
    ("income > 0)", "syntax_unbalanced", None),
    ('name == "abc', "syntax_unterminated", None),
    ("1abc > 0", "syntax_decimal", None),
    ("income > 01", "syntax_leading_zero", None),
    ("income > 0 if flag", "syntax_other", None),
    ("-" * 100 + "1", "too_deep", None),
    ('"' + "a" * 1001 + '"', "literal_too_long", None),
    ("2 ** 1000", "exponent_too_large", "hint_at_most"),
    ("10000000000000000 ** 2", "base_too_large", "hint_at_most"),
    ("income.real > 0", "attribute", "hint_declared_only"),
    ("name.upper()", "attribute", "hint_declared_only"),
    ("needs[0]", "indexing", "hint_lookup"),
    ("lambda: 1", "lambda", None),
    ("[x for x in needs]", "comprehension", "hint_aggregates"),
    ("(x for x in needs)", "generator", "hint_aggregates"),
    ('f"{income}"', "fstring", None),
    ("(x := 1)", "assignment", None),
    ("{1: 2}", "dictionary", "hint_declare_table"),
    ("{1, 2}", "set", "hint_tuple"),
    ("max(*needs)", "star", None),
    ("income is 1", "word_not_allowed", "hint_is"),
    ("None", "literal_not_allowed", "hint_present"),
    ("~income", "operator_not_allowed", None),
    ("income | 1", "operator_not_allowed", None),
    ("incme > 0", "unknown_name", "hint_did_you_mean"),
    ("yes", "unknown_name", "hint_yes_no"),
    ("zzzz > 0", "unknown_name", None),
    ("today", "is_function", "hint_call_it"),
    ("sex == 'male'", "member_field_outside", "hint_for_example_any"),
    ("age(dob)(1)", "only_named_functions", None),
    ("agee(dob) > 3", "unknown_function", "hint_did_you_mean"),
    ("income(1)", "unknown_function", "hint_is_value"),
    ("zzzz(1)", "unknown_function", "hint_function_list"),
    ("age(dob=dob)", "no_named_arguments", None),
    ("min(1)", "at_least_two", None),
    ("floor(1, 2)", "takes_exact_one", None),
    ("years_between(dob)", "takes_exact", None),
    ("lookup(rates)", "takes_range", None),
    ("count(members, any(members, disabled))", "nested_aggregate", None),
    ("any(members)", "aggregate_arguments", None),
    ("sum(members)", "sum_arguments", None),
    ('(1, "a")', "list_mixes", None),
    ("income and flag", "needs_conditions", "hint_compare_x"),
    ("not income", "not_needs_condition", None),
    ("-name", "sign_needs_number", None),
    ("dob * 2", "cannot_compute", "hint_dates_days"),
    ("name - 1", "cannot_compute", "hint_text_join"),
    ("flag * flag", "cannot_compute", None),
    ("flag < flag", "no_order", None),
    ("dob > 3", "cannot_compare", "hint_date_to_number"),
    ("name > 3", "cannot_compare", "hint_quotes"),
    ("1 in income", "in_needs_list", "hint_tuple"),
    ('1 in ("a", "b")', "list_holds", None),
    ('district == "nort"', "not_a_choice", "hint_did_you_mean"),
    ('district == "zzzzzz"', "not_a_choice", "hint_choices"),
    ("1 if income else 2", "if_condition", None),
    ('1 if flag else "a"', "branches_differ", None),
    ('age("2020-01-01") > 3', "needs_type", "hint_date_literal"),
    ("age(1) > 3", "needs_type", None),
    ('date("2020-13-01")', "not_a_date", "hint_yyyy"),
    ("count(income)", "count_needs", None),
    ("any(needs, flag)", "over_members", None),
    ("any(members, income)", "for_each_member", None),
]
# said by the definition compiler and the workbench (tests below and tests/web/test_workbench_in_french.py)
ELSEWHERE = {"wrong_result", "hint_compare_18", "no_such_formula", "no_scope", "hint_write_formula"}
UNREACHABLE = {"takes_range_one"}  # no function takes 0 to 1 arguments today


def test_every_message_has_english_and_french_with_the_same_placeholders():
    for key, texts in MESSAGES.items():
        assert set(texts) == {"en", "fr"}, key
        assert placeholders(texts["en"]) == placeholders(texts["fr"]), key
        assert texts["en"] != texts["fr"] or not any(c.isalpha() for c in texts["en"]), key


@pytest.mark.parametrize(("formula", "key", "hint_key"), BROKEN, ids=[b[1] + ":" + b[0][:30] for b in BROKEN])
def test_each_error_says_in_english_what_it_always_said_and_in_french_too(formula, key, hint_key):
    with pytest.raises(FormulaError) as info:
        compile_formula(formula, SCOPE)
    exc = info.value
    assert exc.said is not None and exc.said.key == key, (exc.said, str(exc))
    assert exc.said.text("en") == exc.message == exc.text("en")
    assert exc.hint_text("en") == exc.hint
    if hint_key:
        assert exc.hint_said is not None and exc.hint_said.key == hint_key
    else:
        assert exc.hint_said is None
    french = exc.text("fr")
    assert french != exc.message and french
    if exc.hint:
        assert exc.hint_text("fr") != exc.hint


def test_the_corpus_reaches_every_message_of_the_checker():
    seen = {b[1] for b in BROKEN} | {b[2] for b in BROKEN if b[2]}
    assert set(FORMULA_KEYS) - seen - ELSEWHERE - UNREACHABLE == set()


def test_every_broken_fixture_says_in_english_what_it_always_said():
    """The 120 broken definitions: each formula error (E4xx/E5xx and E310 from a formula) renders its
    English message and hint exactly, and has a French one."""
    seen = set()
    for path in sorted(FIXTURES.glob("*.yaml")):
        for d in compile_file(path).diagnostics:
            if d.code[:2] in ("E4", "E5"):
                assert d.said is not None, (path.name, str(d))
            if d.said is None:
                continue
            seen.add(d.said.key)
            assert d.said.text("en") == d.message, path.name
            assert d.hint_text("en") == d.hint, path.name
            assert d.text("en") == str(d)
            assert d.message_text("fr") != d.message
    assert {"wrong_result", "unknown_name", "test_failure"} <= seen


def test_a_failed_test_case_of_the_scheme_is_said_in_french():
    from openscheme.analysis import workbench
    from openscheme.definitions import compile_file as compile_

    scheme = compile_(Path(__file__).resolve().parents[2] / "examples" / "gm_nafa_quick.yaml").scheme
    _text, result = workbench.apply(scheme, "eligibility.poorest_district", "district in poorest_districts "
                                    "and count(members) >= 30")
    failures = [d for d in result.errors if d.code == "E702"]
    assert failures and all(d.said is not None and d.text("en") == str(d) for d in failures)
    french = failures[0].message_text("fr")
    assert french.startswith("cas de test « ") and "attendu : éligible, mais poorest_district" in french


def test_types_and_what_a_formula_is_for_are_said_in_french():
    said = say("wrong_result", what="an eligibility rule", want="yes/no", got="number")
    assert said.text("en") == "an eligibility rule must give a yes/no, but this formula gives a number"
    assert said.text("fr") == "une règle d'éligibilité doit donner une valeur oui/non, mais cette formule donne un nombre"
    assert say("list_mixes", kinds=("date", "number")).text("fr") == "une liste mélange des valeurs de types date et nombre"
    assert say("unknown_name", name="distrct").text("fr_FR") == "nom inconnu « distrct »"
