"""The workbench core: checking a formula in the scheme's scope, writing it back into the text."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES
from openscheme.analysis import workbench
from openscheme.definitions import compile_file, compile_text
from openscheme.definitions.loader import load_yaml


@pytest.fixture(scope="module")
def nafa():
    return compile_file(EXAMPLES / "gm_nafa_quick.yaml").scheme


def test_targets_are_the_rules_and_cash_amounts(nafa):
    keys = [t.key for t in workbench.targets(nafa)]
    assert keys == ["eligibility.poorest_district", "benefits.nafa_quick.amount"]
    chf = compile_file(EXAMPLES / "tz_chf.yaml").scheme
    assert [t.key for t in workbench.targets(chf)] == ["eligibility.participating_council",
                                                       "eligibility.has_adult_member"]


def test_check_gives_the_code_message_hint_and_column(nafa):
    r = workbench.check(nafa, "eligibility.poorest_district", "district in poorest_districts and count(membrs) >= 3")
    assert (r.ok, r.code, r.line, r.col) == (False, "E410", 1, 41)
    assert "membrs" in r.message and r.hint == "did you mean 'members'?"
    r = workbench.check(nafa, "eligibility.poorest_district", "count(members)")
    assert (r.ok, r.code) == (False, "E506") and "yes/no" in r.message
    r = workbench.check(nafa, "benefits.nafa_quick.amount", "district in poorest_districts")
    assert (r.ok, r.code) == (False, "E506")
    r = workbench.check(nafa, "eligibility.poorest_district", "district == \"XXX\"")
    assert (r.ok, r.code) == (False, "E310")
    assert workbench.check(nafa, "eligibility.poorest_district", "  ").code == "E207"
    assert workbench.check(nafa, "eligibility.nope", "true").code == "E201"
    ok = workbench.check(nafa, "eligibility.poorest_district", "district in poorest_districts and count(members) >= 3")
    assert ok.ok and ok.result_type == "yes/no"


def test_the_check_agrees_with_the_compiler(nafa):
    """Same code and same column as compiling the whole file with the formula in it."""
    formula = "district in poorest_districts and age(members) >= 3"
    r = workbench.check(nafa, "eligibility.poorest_district", formula)
    text = workbench.replace_formula(nafa.text, ("eligibility", 0, "formula"), formula)
    result = compile_text(text, "x.yaml")
    d = result.errors[0]
    line = text.split("\n")[d.location.line - 1]
    assert d.code == r.code and line.index("district in") + r.col == d.location.col


def test_replace_keeps_comments_and_layout(nafa):
    new = workbench.replace_formula(nafa.text, ("eligibility", 0, "formula"), "district in poorest_districts\n and count(members) >= 3")
    old_lines, new_lines = nafa.text.split("\n"), new.split("\n")
    assert len(old_lines) == len(new_lines)
    differing = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert len(differing) == 1
    assert new_lines[differing[0]] == "    formula: district in poorest_districts and count(members) >= 3"
    assert "# Amounts and district lists below are ILLUSTRATIVE" in new


@pytest.mark.parametrize("source, formula, expected", [
    ("a:\n  f: x > 1  # keep me\n", "x > 2", "a:\n  f: x > 2  # keep me\n"),
    ("a: {f: x > 1, g: 2}\n", "x in (1, 2)", 'a: {f: "x in (1, 2)", g: 2}\n'),
    ("a:\n  f: 'x == \"a\"'\n", "x == 'b'", "a:\n  f: 'x == ''b'''\n"),
    ("a:\n  f: |\n    x > 1\n    and y\n  g: 1\n", "x > 2\nand y", "a:\n  f: |\n    x > 2\n    and y\n  g: 1\n"),
    ("a:\n  f: x\n", "y: 1 # z", 'a:\n  f: "y: 1 # z"\n'),
    ("a:\n  f: 100\n", "200", 'a:\n  f: "200"\n'),
])
def test_replace_quotes_only_when_it_must(source, formula, expected):
    assert workbench.replace_formula(source, ("a", "f"), formula) == expected
    data, _, _ = load_yaml(expected, "x")
    assert data["a"]["f"].strip() == " ".join(formula.split()) or data["a"]["f"].strip() == formula


def test_apply_runs_the_schemes_own_tests(nafa):
    _text, result = workbench.apply(nafa, "benefits.nafa_quick.amount", "min(base_amount + 120 * count(members), max_amount)")
    assert not result.ok and any(d.code == "E706" for d in result.errors)  # the 7-member test expects 2,200
    _text, result = workbench.apply(nafa, "eligibility.poorest_district", "district in poorest_districts and count(members) >= 3")
    assert result.ok


def test_targets_are_named_in_english_and_french(nafa):
    t = workbench.targets(nafa)
    assert [x.label for x in t] == ["eligibility rule poorest_district", "benefit nafa_quick: amount"]
    assert [x.title.text("fr") for x in t] == ["règle d'éligibilité poorest_district", "prestation nafa_quick : montant"]
    # a stored proposal's key, also one the scheme no longer has
    assert workbench.key_title("benefits.school.conditions.attends").text("fr") == "prestation school : condition attends"
    assert workbench.key_title("benefits.x.eligible_when").text("en") == "benefit x: eligible_when"
    assert workbench.key_title("odd").text("fr") == "formule odd"


def test_edit_errors_are_said_in_either_language():
    with pytest.raises(workbench.EditError) as caught:
        workbench.replace_formula("a: [1\n", ("a",), "x")
    assert str(caught.value) == "the definition does not load"
    assert caught.value.text("fr") == "la définition ne se charge pas"
