"""Structure validation: the JSON Schema, every error at once, in plain words, at the
line of the offending key or value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from openscheme.definitions import compile_text
from openscheme.definitions.loader import load_yaml
from openscheme.definitions.schema import BENEFIT_KINDS, FIELD_TYPES, SCHEMA
from openscheme.definitions.structure import describe, validate_structure, where

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gm_nafa_quick.yaml"

HEAD = """\
scheme:
  code: demo
  version: 1
  title: Demo
  currency: GMD
  languages: [en]
  benefit_kinds: [cash]
  unit: individual
"""


def structure(text: str):
    data, source_map, diagnostics = load_yaml(text, "s.yaml")
    assert diagnostics == [], [str(d) for d in diagnostics]
    return validate_structure(data, source_map)


def at(diagnostics) -> list[tuple[str, int, int]]:
    return [(d.code, d.location.line, d.location.col) for d in diagnostics]


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(SCHEMA)


def test_the_example_has_a_valid_structure():
    assert structure(EXAMPLE.read_text("utf-8")) == []


FIVE_MISTAKES = """\
scheme:
  code: demo-five
  version: 1
  title: Five mistakes
  descripton: A typo in an optional key
  currency: gmd
  languages: [en]
  benefit_kinds: [cash]
  unit: individul
fields:
  - name: years
    type: integer
    decimals: 9
    label: [Years]
"""


def test_all_structure_errors_are_reported_at_once():
    diagnostics = structure(FIVE_MISTAKES)
    assert at(diagnostics) == [
        ("E201", 5, 3),   # descripton
        ("E205", 6, 13),  # currency: gmd
        ("E204", 9, 9),   # unit: individul
        ("E206", 13, 15),  # decimals: 9
        ("E203", 14, 12),  # label: [Years]
    ]


def test_all_structure_errors_reach_the_compile_result():
    result = compile_text(FIVE_MISTAKES, "five.yaml")
    assert result.scheme is None
    assert len(result.errors) == 5
    assert [str(d).split(": ")[0] for d in result.errors] == [
        "five.yaml:5:3", "five.yaml:6:13", "five.yaml:9:9", "five.yaml:13:15", "five.yaml:14:12"]


def test_structure_errors_are_sorted_by_position_and_unique():
    diagnostics = structure(FIVE_MISTAKES)
    positions = [(d.location.line, d.location.col) for d in diagnostics]
    assert positions == sorted(positions)
    assert len({(d.code, d.message, d.location) for d in diagnostics}) == len(diagnostics)


def test_a_document_that_is_not_a_mapping():
    data, source_map, _ = load_yaml("- a\n- b\n", "s.yaml")
    diagnostics = validate_structure(data, source_map)
    assert [d.code for d in diagnostics] == ["E203"]
    assert "must be a mapping with 'scheme:' and 'fields:'" in diagnostics[0].message


def test_missing_top_level_keys():
    diagnostics = structure("scheme:\n  code: x\n")
    messages = [d.message for d in diagnostics]
    assert "missing key 'fields' in the document" in messages
    for key in ("version", "title", "currency", "languages", "benefit_kinds", "unit"):
        assert f"missing key '{key}' in scheme" in messages


def test_unknown_key_with_and_without_a_close_match():
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: text, lable: A, zzz: 1}\n")
    by_key = {d.message.split("'")[1]: d for d in diagnostics if d.code == "E201"}
    assert by_key["lable"].hint == "did you mean 'label'?"
    assert by_key["lable"].message == "unknown key 'lable' in fields[0]"
    assert by_key["zzz"].hint.startswith("allowed: name, type, preset, label")
    assert (by_key["lable"].location.line, by_key["lable"].location.col) == (10, 27)


def test_unknown_top_level_key():
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: text}\nbenefit:\n  - code: x\n")
    assert at(diagnostics) == [("E201", 11, 1)]
    assert diagnostics[0].hint == "did you mean 'benefits'?"


def test_a_field_needs_name_and_type_or_a_preset():
    diagnostics = structure(HEAD + "fields:\n  - label: Nothing else\n")
    assert at(diagnostics) == [("E202", 10, 5)]
    assert diagnostics[0].message == "fields[0] needs 'name' and 'type', or a 'preset'"


def test_bad_field_type_suggests_the_right_one():
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: interger}\n")
    assert [d.code for d in diagnostics] == ["E204"]
    assert diagnostics[0].hint == "did you mean 'integer'?"
    for t in FIELD_TYPES:
        assert t in diagnostics[0].message


def test_wrong_type_words():
    diagnostics = structure(HEAD.replace("languages: [en]", "languages: en") + "fields: {a: 1}\n")
    messages = sorted(d.message for d in diagnostics)
    assert messages == ["fields must be a list, not a mapping", "scheme.languages must be a list, not the text 'en'"]


def test_text_or_translations():
    diagnostics = structure(HEAD.replace("title: Demo", "title: 5") + "fields:\n  - {name: a, type: text}\n")
    assert [d.message for d in diagnostics] == ["scheme.title must be text or a mapping (key: value), not the number 5"]


def test_a_bad_language_code_in_a_translation():
    diagnostics = structure(HEAD.replace("title: Demo", "title: {EN: Demo}") + "fields:\n  - {name: a, type: text}\n")
    assert [d.code for d in diagnostics] == ["E205"]
    assert diagnostics[0].message == "'EN' is not a language code in scheme.title"
    assert (diagnostics[0].location.line, diagnostics[0].location.col) == (4, 10)


def test_a_bad_name_pattern():
    diagnostics = structure(HEAD + "fields:\n  - {name: Income, type: money}\n")
    assert at(diagnostics) == [("E205", 10, 12)]
    assert "fields[0].name: 'Income' is not in the expected form" in diagnostics[0].message
    assert "lower-case" in diagnostics[0].hint


@pytest.mark.parametrize("snippet, message", [
    ("  - {code: b, kind: cash, label: B, schedule: {frequency: once, cycles: 0}}",
     "benefits[0].schedule.cycles must be at least 1, not 0"),
    ("  - {code: b, kind: cash, label: B, schedule: {frequency: once, cycles: 1001}}",
     "benefits[0].schedule.cycles must be at most 1000, not 1001"),
    ("  - {code: b, kind: cash, label: B, cap: -1}", "benefits[0].cap must be at least 0, not -1"),
])
def test_ranges(snippet, message):
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: text}\nbenefits:\n" + snippet + "\n")
    assert [d.message for d in diagnostics] == [message]
    assert diagnostics[0].code == "E206"


def test_empty_and_repeated_lists():
    diagnostics = structure(HEAD.replace("benefit_kinds: [cash]", "benefit_kinds: []")
                            .replace("languages: [en]", "languages: [en, en]") + "fields: []\n")
    assert sorted((d.code, d.message) for d in diagnostics) == [
        ("E207", "fields must not be empty"),
        ("E207", "scheme.benefit_kinds must not be empty"),
        ("E208", "scheme.languages lists the same value twice"),
    ]


def test_bad_benefit_kind_lists_the_allowed_ones():
    diagnostics = structure(HEAD.replace("benefit_kinds: [cash]", "benefit_kinds: [insurence]")
                            + "fields:\n  - {name: a, type: text}\n")
    assert [d.code for d in diagnostics] == ["E204"]
    assert diagnostics[0].hint == "did you mean 'insurance'?"
    assert all(k in diagnostics[0].message for k in BENEFIT_KINDS)


def test_bool_or_formula():
    ok = structure(HEAD + "fields:\n  - {name: a, type: text, required: true}\n  - {name: b, type: text, required: a == 'x'}\n")
    assert ok == []
    bad = structure(HEAD + "fields:\n  - {name: a, type: text, required: 1}\n")
    assert [d.code for d in bad] == ["E203"]
    assert "fields[0].required must be true or false or text, not the number 1" in bad[0].message


def test_an_empty_formula():
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: text, relevant: ''}\n")
    assert [(d.code, d.message) for d in diagnostics] == [("E207", "fields[0].relevant must not be empty")]


def test_choice_extra_columns_are_allowed_but_must_be_scalars():
    ok = structure(HEAD + "fields:\n  - {name: a, type: select_one, choices: [{value: x, region: R1, rank: 2}]}\n")
    assert ok == []
    bad = structure(HEAD + "fields:\n  - {name: a, type: select_one, choices: [{value: x, region: [R1]}]}\n")
    assert [d.code for d in bad] == ["E203"]


def test_workflow_names_are_limited():
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: text}\nworkflows:\n  approvals:\n"
                            "    initial: a\n    states: [a]\n    transitions: [{name: t, from: a, to: a, roles: [system]}]\n")
    assert [d.code for d in diagnostics] == ["E204"]
    assert "approvals" in diagnostics[0].message


def test_a_decimal_is_a_number_for_the_schema():
    diagnostics = structure(HEAD + "fields:\n  - {name: a, type: text}\nbenefits:\n"
                            "  - {code: b, kind: cash, label: B, cap: 12.5, amount: 10}\n")
    assert diagnostics == []


@pytest.mark.parametrize("value, text", [
    (True, "'true' (true/false)"), (False, "'false' (true/false)"), (3, "the number 3"),
    (Decimal("2.5"), "the number 2.5"), ("abc", "the text 'abc'"), ([1], "a list"), ({}, "a mapping"),
    (None, "nothing"),
])
def test_describe(value, text):
    assert describe(value) == text


def test_describe_cuts_long_text():
    assert describe("x" * 100) == "the text '" + "x" * 40 + "'"


@pytest.mark.parametrize("path, text", [
    ((), "the document"), (("scheme",), "scheme"), (("fields", 2, "name"), "fields[2].name"),
    (("benefits", 0, "services", 3), "benefits[0].services[3]"),
])
def test_where(path, text):
    assert where(path) == text


def test_every_structure_code_is_e2xx():
    diagnostics = structure(FIVE_MISTAKES)
    assert all(d.code.startswith("E2") for d in diagnostics)


def test_structure_errors_are_said_in_french_too_and_in_english_as_always():
    """Every structure error of the broken fixtures (unknown or missing keys, types, values): its English
    message and hint exactly as before, and a French one (`validate --lang fr`, the workbench)."""
    from openscheme.definitions import compile_file

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
    seen = set()
    for path in sorted(fixtures.glob("*.yaml")):
        for d in compile_file(path).diagnostics:
            if d.said is None or not d.said.key.startswith("s_"):
                continue
            seen.add(d.code)
            assert d.said.text("en") == d.message and d.hint_text("en") == d.hint, path.name
            assert d.message_text("fr") != d.message, path.name
    assert {"E201", "E202", "E203", "E204", "E205"} <= seen
    text = (fixtures / "e201_unknown_key_did_you_mean.yaml").read_text("utf-8")
    [d] = [d for d in compile_text(text).diagnostics if d.code == "E201"]
    assert "clé inconnue" in d.text("fr") and "vouliez-vous dire" in d.text("fr")
