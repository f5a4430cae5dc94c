"""The definition compiler: examples compile cleanly, the result is frozen and typed,
presets are merged and overridable, and no input makes it raise."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from openscheme.definitions import (
    CompileResult,
    DefinitionError,
    Scheme,
    compile_file,
    compile_text,
    load_scheme,
)
from openscheme.definitions.compiler import MAX_FILE_BYTES
from openscheme.evaluation.testcases import run_tests
from openscheme.formulas import T

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# a frozen copy of examples/gm_nafa_quick.yaml, so that the details asserted here stay put
NAFA = ROOT / "tests" / "fixtures" / "valid" / "gm_nafa_quick.yaml"

MINIMAL = """\
scheme:
  code: demo
  version: 1
  title: {en: Demo, fr: Démo}
  currency: GMD
  languages: [en, fr]
  benefit_kinds: [cash]
  unit: individual
  period: {start: 2024-01-01, end: 2024-12-31}

constants:
  amount: 100

fields:
  - name: income
    type: money
    required: true

eligibility:
  - name: poor
    formula: income < 1000
    reason: Income too high

benefits:
  - code: grant
    kind: cash
    label: Grant
    amount: amount
    schedule: {frequency: monthly, cycles: 2}
"""


def compile_ok(text: str, file: str = "demo.yaml") -> Scheme:
    result = compile_text(text, file)
    assert result.ok, "\n".join(str(d) for d in result.diagnostics)
    return result.scheme


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if fragment in line)


def replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# ---- the examples ------------------------------------------------------------------------

def test_there_are_examples():
    assert ROOT / "examples" / "gm_nafa_quick.yaml" in EXAMPLES


def test_the_frozen_copy_compiles():
    assert compile_file(NAFA).diagnostics == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_compiles_without_errors_or_warnings(path):
    result = compile_file(path)
    assert result.diagnostics == [], "\n".join(str(d) for d in result.diagnostics)
    assert result.ok
    assert result.scheme.file == str(path)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_has_passing_embedded_tests(path):
    scheme = compile_file(path, run_tests=False).scheme
    assert scheme is not None
    assert scheme.tests, f"{path.name} declares no test cases"
    outcomes = run_tests(scheme)
    failures = [f"{o.case.name}: {f.code} {f.message}" for o in outcomes for f in o.failures]
    assert failures == []


def test_the_nafa_example_compiles_to_the_expected_scheme():
    s = load_scheme(NAFA)
    assert (s.code, s.version, s.currency, s.unit) == ("gm-nafa-quick", "1", "GMD", "household")
    assert s.languages == ("en", "fr") and s.default_language == "en"
    assert s.benefit_kinds == ("cash",)
    assert s.period_start == date(2020, 8, 1) and s.period_end == date(2020, 12, 31)
    assert s.illustrative is True
    assert s.title.get("fr") == "Transfert monétaire d'urgence Nafa Quick"
    assert [f.name for f in s.fields] == ["region", "district", "village", "phone", "payment_channel"]
    assert [f.name for f in s.member_fields] == ["first_name", "last_name", "sex", "dob", "national_id"]
    assert s.is_household and s.members.min == 1 and s.members.max == 30
    assert {r.name for r in s.roles} == {"head", "primary_recipient"}
    assert s.constants["poorest_districts"] == ("BSE", "KNT", "WUL", "JAN")
    assert s.constants["base_amount"] == 1500
    assert s.rule("poorest_district").formula.result_type is T.BOOL
    b = s.benefit("nafa_quick")
    assert b.kind == "cash" and b.schedule.cycles == 3 and b.schedule.start == date(2020, 8, 1)
    assert s.payments.rounding_to == Decimal(5) and s.payments.recipient == "primary_recipient"
    assert set(s.workflows) == {"enrolment", "payments"}
    assert len(s.tests) == 3


def test_field_details_are_typed():
    s = load_scheme(NAFA)
    district = s.field("district")
    assert district.choice_list == "districts"
    assert district.choice_values == {"BSE", "KNT", "WUL", "JAN", "KBW"}
    assert district.choice_filter.column == "region" and district.choice_filter.field == "region"
    assert district.choice("BSE").columns == {"region": "URR"}
    dob = s.field("dob")
    assert dob.value_type is T.DATE and dob.scope == "member" and dob.min == date(1900, 1, 1)
    assert dob.constraint is not None
    nid = s.field("national_id")
    assert nid.unique and nid.searchable and nid.pattern == "^[0-9]{9}$"
    assert s.field("phone").relevant.names == frozenset({"payment_channel"})


# ---- the compiled scheme is frozen -------------------------------------------------------

def test_the_scheme_is_frozen():
    s = load_scheme(NAFA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.code = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.fields[0].required = False
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.benefits[0].schedule.cycles = 99
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.eligibility[0].name = "x"
    with pytest.raises((AttributeError, TypeError)):
        s.fields.append(s.fields[0])  # tuples, not lists


def test_content_hash_is_the_sha256_of_the_text():
    text = MINIMAL
    s = compile_ok(text)
    assert s.content_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert s.text == text


def test_content_hash_changes_when_the_text_changes_even_a_comment():
    a = compile_ok(MINIMAL)
    b = compile_ok(MINIMAL + "# a comment\n")
    c = compile_ok(replace(MINIMAL, "amount: 100", "amount: 101"))
    assert len({a.content_hash, b.content_hash, c.content_hash}) == 3
    assert compile_ok(MINIMAL).content_hash == a.content_hash


def test_money_is_decimal_and_dates_are_dates():
    s = compile_ok(replace(MINIMAL, "  amount: 100\n", "  amount: 100.50\n  launch: 2024-03-01\n"))
    assert s.constants["amount"] == Decimal("100.50") and type(s.constants["amount"]) is Decimal
    assert s.constants["launch"] == date(2024, 3, 1)


# ---- presets -----------------------------------------------------------------------------

def test_builtin_preset_is_expanded():
    s = compile_ok(replace(MINIMAL, "  - name: income\n", "  - preset: phone\n  - name: income\n"))
    phone = s.field("phone")
    assert phone.type == "phone" and phone.pattern == r"^\+?[0-9]{7,15}$"
    assert phone.label.get("fr") == "Numéro de téléphone"
    assert phone.required is False


def test_a_preset_key_can_be_overridden():
    s = compile_ok(replace(MINIMAL, "  - name: income\n",
                           "  - {preset: phone, name: mobile, required: true, label: {en: Mobile}}\n  - name: income\n"))
    assert s.field("phone") is None
    mobile = s.field("mobile")
    assert mobile.type == "phone" and mobile.required is True
    assert mobile.label.get("en") == "Mobile"
    assert mobile.pattern == r"^\+?[0-9]{7,15}$"  # not overridden: kept from the preset


def test_a_scheme_preset_takes_precedence_over_a_builtin_one():
    text = replace(MINIMAL, "\nfields:\n",
                   "\npresets:\n  phone:\n    type: text\n    max_length: 12\n    label: Téléphone local\n\nfields:\n")
    s = compile_ok(replace(text, "  - name: income\n", "  - preset: phone\n  - name: income\n"))
    phone = s.field("phone")
    assert phone.type == "text" and phone.max_length == 12 and phone.pattern is None
    assert str(phone.label) == "Téléphone local"


def test_a_preset_choice_list_is_provided_when_not_declared():
    s = compile_ok(replace(MINIMAL, "  - name: income\n", "  - preset: sex\n  - name: income\n"))
    assert s.field("sex").choice_values == {"F", "M"}
    assert "sex" in s.choices


def test_a_scheme_choice_list_takes_precedence_over_the_presets_one():
    text = replace(MINIMAL, "\nfields:\n", "\nchoices:\n  sex:\n    - {value: female}\n    - {value: male}\n    - {value: other}\n\nfields:\n")
    s = compile_ok(replace(text, "  - name: income\n", "  - preset: sex\n  - name: income\n"))
    assert s.field("sex").choice_values == {"female", "male", "other"}


# ---- never raising, results and errors ---------------------------------------------------

def test_compile_result_properties():
    ok = compile_text(MINIMAL)
    assert isinstance(ok, CompileResult) and ok.ok and ok.errors == [] and ok.warnings == []
    bad = compile_text(replace(MINIMAL, "formula: income < 1000", "formula: incme < 1000"))
    assert not bad.ok and bad.scheme is None
    assert [d.code for d in bad.errors] == ["E410"]


def test_load_scheme_raises_definition_error_with_every_diagnostic(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(replace(replace(MINIMAL, "income < 1000", "incme < 1000"), "amount: amount", "amount: amont"), "utf-8")
    with pytest.raises(DefinitionError) as info:
        load_scheme(path)
    assert [d.code for d in info.value.diagnostics] == ["E410", "E410"]
    assert str(path) in str(info.value)


def test_a_missing_file_is_e100(tmp_path):
    result = compile_file(tmp_path / "nope.yaml")
    assert [d.code for d in result.diagnostics] == ["E100"]
    assert "cannot read the file" in result.diagnostics[0].message


def test_a_file_that_is_not_utf8_is_e100_at_its_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(MINIMAL.replace("Démo", "D\xe9mo").encode("latin-1"))
    result = compile_file(path)
    assert [(d.code, d.location.line) for d in result.diagnostics] == [("E100", 4)]


def test_display_name_is_used_in_diagnostics(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("", "utf-8")
    result = compile_file(path, display_name="shown.yaml")
    assert str(result.diagnostics[0]).startswith("shown.yaml:1:1: E106")


def test_a_huge_file_is_refused_before_parsing():
    result = compile_text("a: 1\n" + "#" * MAX_FILE_BYTES)
    assert [d.code for d in result.diagnostics] == ["E105"]


def test_a_broken_stage_does_not_cascade():
    """A structure error stops the pipeline: no semantic errors follow."""
    text = replace(replace(MINIMAL, "unit: individual", "unit: individul"), "income < 1000", "incme < 1000")
    result = compile_text(text)
    assert [d.code for d in result.diagnostics] == ["E204"]


def test_semantic_errors_are_all_reported_at_once():
    text = MINIMAL
    text = replace(text, "income < 1000", "incme < 1000")                      # E410
    text = replace(text, "amount: amount", "amount: amount > 1")              # E506
    text = replace(text, "    required: true\n", "    required: true\n    max_length: 3\n")  # E327
    text = replace(text, "  amount: 100\n", "  amount: 100\n  today: 1\n")    # E303
    text += "\npayments:\n  recipient: nobody\n"                              # E340
    result = compile_text(text)
    assert sorted(d.code for d in result.errors) == ["E303", "E327", "E340", "E410", "E506"]


def test_warnings_do_not_stop_compilation():
    text = replace(MINIMAL, "benefit_kinds: [cash]", "benefit_kinds: [cash, voucher]")
    result = compile_text(text)
    assert result.ok
    assert [(d.code, d.severity) for d in result.diagnostics] == [("W351", "warning")]
    assert result.warnings == result.diagnostics


def test_a_state_with_no_way_out_is_a_warning():
    text = MINIMAL + ("\nworkflows:\n  payments:\n    initial: draft\n    states: [draft, sent, paid]\n"
                      "    final: [paid]\n    transitions:\n"
                      "      - {name: send, from: draft, to: sent, roles: [payment_officer]}\n"
                      "      - {name: pay, from: draft, to: paid, roles: [payment_officer]}\n")
    result = compile_text(text)
    assert result.ok
    assert [(d.code, d.location.line) for d in result.diagnostics] == [("W606", line_of(text, "states: [draft"))]
    assert "'sent'" in result.diagnostics[0].message


def test_defaults_for_workflows_and_payments():
    s = compile_ok(MINIMAL)
    assert set(s.workflows) == {"enrolment", "payments"}
    assert not s.workflows["payments"].declared
    assert s.payments.recipient == "beneficiary" and s.payments.key == ("beneficiary", "scheme", "benefit", "cycle")


def test_diagnostics_are_sorted_by_line():
    text = replace(replace(MINIMAL, "income < 1000", "incme < 1000"), "amount: amount", "amount: amont")
    lines = [d.location.line for d in compile_text(text).diagnostics]
    assert lines == sorted(lines)


def test_embedded_tests_can_be_skipped():
    text = MINIMAL + ("\ntests:\n  - name: wrong on purpose\n    data: {income: 10}\n"
                      "    expect: {amounts: {grant: 5}}\n")
    assert [d.code for d in compile_text(text).diagnostics] == ["E706"]
    assert compile_text(text, run_tests=False).ok


def test_a_failing_embedded_test_keeps_the_scheme_but_is_not_ok():
    text = MINIMAL + ("\ntests:\n  - name: wrong on purpose\n    data: {income: 10}\n"
                      "    expect: {eligible: false}\n")
    result = compile_text(text)
    assert result.scheme is not None and not result.ok
    d = result.errors[0]
    assert d.code == "E702" and "test 'wrong on purpose'" in d.message
    assert d.location.line == line_of(text, "expect: {eligible: false}")


@pytest.mark.parametrize("text", [
    "", "scheme:", "scheme: {}\nfields: []", "- 1", "42", "'text'", "[", "{a: [}", "scheme: !!binary aGVsbG8=",
    "\x00", "\ufeffscheme: x", "scheme:\n  code: [\n", "? a\n", "&a a: *a",
])
def test_odd_input_never_raises(text):
    result = compile_text(text)
    assert isinstance(result, CompileResult)
    assert not result.ok
    assert all(d.code != "E000" for d in result.diagnostics), [str(d) for d in result.diagnostics]


# ---- known bugs --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["~\n", "null\n", "---\n", "--- ~\n"])
def test_a_null_document_is_reported(text):
    result = compile_text(text)
    assert not result.ok
    assert result.errors, "not ok, yet nothing tells the implementer why"


def test_a_comment_inside_a_folded_formula_is_not_silently_dropped():
    text = replace(MINIMAL, "    formula: income < 1000\n",
                   "    formula: >\n      income < 1000   # the poverty line\n      and income > 10000\n")
    result = compile_text(text)
    assert not result.ok, "the condition 'and income > 10000' was commented out without a word"


def test_wage_field_hint_does_not_suggest_the_same_field():
    text = replace(MINIMAL, "  - name: income\n", "  - name: village\n    type: text\n  - name: income\n")
    text += "\ncontributions:\n  wage: {field: village, employer_percent: 3, employee_percent: 3}\n"
    result = compile_text(text)
    d = next(d for d in result.errors if d.code == "E342")
    assert "village" not in d.hint


def test_required_yes_gets_a_helpful_hint():
    result = compile_text(replace(MINIMAL, "    required: true\n", "    required: yes\n"))
    assert not result.ok
    d = result.errors[0]
    assert "true" in d.hint


def test_an_unknown_initial_state_does_not_cascade():
    text = MINIMAL + ("\nworkflows:\n  payments:\n    initial: new\n    states: [draft, sent, paid]\n"
                      "    final: [paid]\n    transitions:\n"
                      "      - {name: send, from: draft, to: sent, roles: [payment_officer]}\n"
                      "      - {name: pay, from: sent, to: paid, roles: [payment_officer]}\n")
    result = compile_text(text)
    assert [d.code for d in result.errors] == ["E602"]


@pytest.mark.parametrize("key", ["[a, b]", "{x: 1}", "true", "1.5"])
def test_a_table_key_that_is_not_text_or_a_whole_number_is_an_error(key):
    text = replace(MINIMAL, "\nfields:\n", f"\ntables:\n  rates:\n    key: code\n    rows:\n      - {{code: {key}, rate: 1}}\n\nfields:\n")
    result = compile_text(text)
    assert [(d.code, d.location.line) for d in result.diagnostics] == [("E203", line_of(text, "- {code:"))]


@pytest.mark.parametrize("amount", ["1e400", "amount * 10000000000000000000000000000000"])
def test_a_huge_amount_is_not_an_internal_error(amount):
    text = replace(MINIMAL, "amount: amount", f"amount: {amount}")
    text += "\ntests:\n  - name: t\n    data: {income: 10}\n    expect: {amounts: {grant: 100}}\n"
    result = compile_text(text)
    assert [str(d) for d in result.diagnostics if d.code == "E000"] == []


def test_a_text_missing_a_declared_language_is_a_warning_at_its_line():
    text = replace(MINIMAL, "    label: Grant\n", "    label: {en: Grant}\n")
    text = replace(text, "    required: true\n", "    required: true\n    label:\n      fr: Revenu\n")
    text = replace(text, "    reason: Income too high\n", "    reason: {en: Income too high, fr: Revenu trop élevé}\n")
    result = compile_text(text)
    assert result.ok  # a warning: the missing language falls back to another one
    found = [(d.code, d.location.line, d.message) for d in result.diagnostics]
    assert found == [
        ("W352", line_of(text, "    label:"), "this text has no en version, though the scheme declares languages en, fr"),
        ("W352", line_of(text, "label: {en: Grant}"), "this text has no fr version, though the scheme declares languages en, fr"),
    ]


def test_plain_text_and_single_language_schemes_need_no_translation():
    assert compile_text(MINIMAL).diagnostics == []  # `label: Grant` is the same in every language
    one = replace(MINIMAL, "languages: [en, fr]", "languages: [en]")
    assert compile_text(replace(one, "    label: Grant\n", "    label: {en: Grant}\n")).diagnostics == []
