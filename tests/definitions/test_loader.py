"""The YAML loader: positions, YAML 1.2 scalars (the Norway problem), duplicate keys,
refused tags, and documents built to exhaust memory or time."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from openscheme.definitions.loader import MAX_DEPTH, MAX_NODES, SourceMap, load_yaml


def load(text: str):
    data, source_map, diagnostics = load_yaml(text, "t.yaml")
    return data, source_map, diagnostics


def load_ok(text: str):
    data, source_map, diagnostics = load(text)
    assert diagnostics == [], [str(d) for d in diagnostics]
    return data, source_map


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


# ---- positions ---------------------------------------------------------------------------

POSITIONS = """\
scheme:
  code: demo
  title: {en: Demo, fr: Démo}
fields:
  - name: a
    type: text
  - {name: b, type: integer}
  -   name: c
      type: date
"""


def test_positions_of_nested_keys_are_one_based_and_point_at_the_value():
    _, sm = load_ok(POSITIONS)
    code = sm.position(("scheme", "code"))
    assert (code.line, code.col) == (2, 9)
    assert (code.key_line, code.key_col) == (2, 3)
    en = sm.position(("scheme", "title", "fr"))
    assert (en.line, en.col) == (3, 25)
    assert (en.key_line, en.key_col) == (3, 21)


def test_positions_of_list_items_block_and_flow():
    _, sm = load_ok(POSITIONS)
    first = sm.position(("fields", 0))
    assert (first.line, first.col) == (5, 5)
    assert (first.key_line, first.key_col) == (0, 0)  # a list item has no key
    assert (sm.position(("fields", 0, "type")).line, sm.position(("fields", 0, "type")).col) == (6, 11)
    flow = sm.position(("fields", 1, "type"))
    assert (flow.line, flow.col) == (7, 21)
    assert (flow.key_line, flow.key_col) == (7, 15)
    odd = sm.position(("fields", 2, "type"))  # an item indented by more than "- "
    assert (odd.line, odd.col) == (9, 13)


def test_at_reports_the_value_or_the_key():
    _, sm = load_ok(POSITIONS)
    assert str(sm.at(("fields", 1, "name"))) == "t.yaml:7:12"
    assert str(sm.at(("fields", 1, "name"), key=True)) == "t.yaml:7:6"
    # a list item has no key: key=True falls back to the item itself
    assert str(sm.at(("fields", 0), key=True)) == "t.yaml:5:5"


def test_an_unknown_path_falls_back_to_its_nearest_known_parent():
    _, sm = load_ok(POSITIONS)
    assert sm.position(("fields", 0, "label", "en")) == sm.position(("fields", 0))
    fallback = sm.position(("nothing", "here"))
    assert (fallback.line, fallback.col) == (1, 1)


def test_scalar_styles_are_recorded():
    _, sm = load_ok("a: plain\nb: 'single'\nc: \"double\"\nd: |\n  lit\ne: >\n  fold\n")
    assert [sm.position((k,)).style for k in "abcde"] == [None, "'", '"', "|", ">"]


def test_positions_count_characters_not_bytes():
    _, sm = load_ok("title: {fr: Démo été, en: Demo}\n")
    assert sm.position(("title", "en")).col == 27


def test_formula_location_in_a_plain_and_quoted_scalar():
    text = "rule: age(dob) >= 18\nquoted: \"age(dob) >= 18\"\n"
    _, sm = load_ok(text)
    # col is 0-based inside the formula; the result is 1-based in the file
    assert str(sm.formula_location(("rule",), 1, 4)) == "t.yaml:1:11"
    assert str(sm.formula_location(("quoted",), 1, 4)) == "t.yaml:2:14"


def test_formula_location_in_a_literal_block():
    text = "rule: |\n  age(dob) >= 18\n  and incme > 0\n"
    _, sm = load_ok(text)
    assert str(sm.formula_location(("rule",), 2, 4)) == "t.yaml:3:7"


# ---- scalars: YAML 1.2 core schema -------------------------------------------------------

@pytest.mark.parametrize("word", ["no", "No", "NO", "yes", "Yes", "on", "off", "y", "n", "Off"])
def test_the_norway_problem_words_stay_text(word):
    data, _ = load_ok(f"country: {word}\nlist: [{word}]\n")
    assert data == {"country": word, "list": [word]}
    assert isinstance(data["country"], str)


@pytest.mark.parametrize("word, value", [("true", True), ("false", False), ("True", True), ("FALSE", False)])
def test_only_true_and_false_are_booleans(word, value):
    data, _ = load_ok(f"flag: {word}\n")
    assert data["flag"] is value


def test_a_choice_value_no_stays_the_text_no():
    data, _ = load_ok("choices:\n  - {value: no, label: Norway}\n  - {value: NO}\n")
    assert [c["value"] for c in data["choices"]] == ["no", "NO"]


@pytest.mark.parametrize("text, value", [
    ("1.5", Decimal("1.5")), ("0.1", Decimal("0.1")), ("-2.25", Decimal("-2.25")), (".5", Decimal("0.5")),
    ("12500.00", Decimal("12500.00")),
])
def test_decimals_become_decimal_never_float(text, value):
    data, _ = load_ok(f"amount: {text}\n")
    assert type(data["amount"]) is Decimal
    assert data["amount"] == value


def test_decimal_keeps_its_exact_value():
    data, _ = load_ok("rate: 0.1\n")
    assert data["rate"] * 3 == Decimal("0.3")  # would be 0.30000000000000004 as a float


@pytest.mark.parametrize("text, value", [("10", 10), ("-3", -3), ("0", 0), ("1_000", 1000), ("+7", 7)])
def test_integers_are_int(text, value):
    data, _ = load_ok(f"n: {text}\n")
    assert type(data["n"]) is int
    assert data["n"] == value


@pytest.mark.parametrize("text", ["'10'", '"1.5"', "!!str 10", "'true'", "\"no\""])
def test_quoted_or_str_tagged_scalars_are_text(text):
    data, _ = load_ok(f"v: {text}\n")
    assert isinstance(data["v"], str)


@pytest.mark.parametrize("text", ["2020-08-01", "2020-08-01T10:00:00", "2020-02-30"])
def test_dates_stay_text(text):
    data, _ = load_ok(f"start: {text}\nperiod: {{start: {text}}}\n")
    assert data["start"] == text
    assert data["period"]["start"] == text


@pytest.mark.parametrize("text", ["~", "null", "Null", "NULL", ""])
def test_nulls(text):
    data, _ = load_ok(f"v: {text}\n")
    assert data["v"] is None


@pytest.mark.parametrize("text", ["0x1F", "0o17", "1:30", ".inf", ".nan", "1.2.3", "12abc"])
def test_yaml_1_1_oddities_are_text(text):
    data, _ = load_ok(f"v: {text}\n")
    assert data["v"] == text


def test_exponent_floats_are_decimal():
    data, _ = load_ok("rate: 1e-3\nbig: 2E+3\n")
    assert data == {"rate": Decimal("0.001"), "big": Decimal("2000")}


# ---- anchors and aliases -----------------------------------------------------------------

def test_anchors_and_aliases_are_expanded():
    data, sm = load_ok("base: &b {lump_sum: 10, members: [a, b]}\ncopy: *b\nlist: [&x 1, *x]\n")
    assert data["copy"] == data["base"] == {"lump_sum": 10, "members": ["a", "b"]}
    assert data["list"] == [1, 1]
    assert data["copy"] is not data["base"]  # built separately: no shared mutable state
    assert sm.position(("copy",)).key_line == 2


def test_a_recursive_alias_gives_e105_fast():
    start = time.perf_counter()
    data, _, diagnostics = load("a: &a [1, *a]\n")
    assert time.perf_counter() - start < 10  # an unbounded alias bomb would take hours
    assert data is None
    assert codes(diagnostics) == ["E105"]
    assert "refers to itself" in diagnostics[0].message


def test_a_recursive_mapping_alias_gives_e105():
    data, _, diagnostics = load("a: &a {b: {c: *a}}\n")
    assert data is None and codes(diagnostics) == ["E105"]


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_gives_e105_fast():
    start = time.perf_counter()
    data, _, diagnostics = load(BILLION_LAUGHS)
    assert time.perf_counter() - start < 10  # an unbounded alias bomb would take hours
    assert data is None
    assert codes(diagnostics) == ["E105"]
    assert str(MAX_NODES) in diagnostics[0].message


def test_billion_laughs_through_the_compiler_is_fast_too():
    from openscheme.definitions import compile_text

    start = time.perf_counter()
    result = compile_text(BILLION_LAUGHS, "lol.yaml")
    assert time.perf_counter() - start < 10  # an unbounded alias bomb would take hours
    assert codes(result.diagnostics) == ["E105"]


def test_deep_nesting_gives_e105():
    depth = MAX_DEPTH + 20
    data, _, diagnostics = load("v: " + "[" * depth + "]" * depth + "\n")
    assert data is None and codes(diagnostics) == ["E105"]


def test_extreme_nesting_gives_e105_not_a_recursion_error():
    start = time.perf_counter()
    data, _, diagnostics = load("[" * 5000 + "]" * 5000)
    assert time.perf_counter() - start < 10  # an unbounded alias bomb would take hours
    assert data is None and codes(diagnostics) == ["E105"]


# ---- duplicate keys, tags, odd keys ------------------------------------------------------

def test_duplicate_key_is_an_error_pointing_at_the_second():
    _, _, diagnostics = load("scheme:\n  code: a\n  title: T\n  code: b\n")
    assert codes(diagnostics) == ["E102"]
    d = diagnostics[0]
    assert (d.location.line, d.location.col) == (4, 3)
    assert "duplicate key 'code' (first at line 2)" in d.message


def test_the_first_value_of_a_duplicate_key_is_kept():
    data, _, _ = load("a: 1\na: 2\n")
    assert data == {"a": 1}


def test_duplicate_keys_in_different_mappings_are_fine():
    load_ok("a: {k: 1}\nb: {k: 2}\nc: [{k: 1}, {k: 2}]\n")


def test_every_duplicate_key_is_reported():
    _, _, diagnostics = load("a: 1\na: 2\nb: {x: 1, x: 2}\n")
    assert [(d.code, d.location.line) for d in diagnostics] == [("E102", 2), ("E102", 3)]


@pytest.mark.parametrize("text", ["v: !money 10\n", "v: !custom {a: 1}\n", "v: ![a, b]\n"])
def test_local_tags_are_refused(text):
    _, _, diagnostics = load(text)
    assert codes(diagnostics) == ["E103"]
    assert diagnostics[0].location.line == 1


@pytest.mark.parametrize("text", [
    "v: !!python/object/apply:os.system [echo hi]\n",
    "v: !!python/object:builtins.dict {a: 1}\n",
    "v: !!python/name:os.system ''\n",
    "v: !<tag:example.com,2024:money> 10\n",
])
def test_python_and_global_tags_are_refused(text):
    _, _, diagnostics = load(text)
    assert "E103" in codes(diagnostics)


def test_python_tags_never_execute(tmp_path):
    marker = tmp_path / "pwned"
    text = f"v: !!python/object/apply:os.system ['touch {marker}']\n"
    load(text)
    from openscheme.definitions import compile_text

    compile_text("scheme: " + text.replace("v: ", ""))
    assert not marker.exists()


def test_merge_keys_are_refused():
    _, _, diagnostics = load("base: &b {a: 1}\nitem:\n  <<: *b\n  c: 2\n")
    assert codes(diagnostics) == ["E103"]
    assert diagnostics[0].location.line == 3


def test_a_non_scalar_key_is_refused():
    _, _, diagnostics = load("? [a, b]\n: 1\n")
    assert codes(diagnostics) == ["E104"]


def test_keys_are_always_text():
    data, _ = load_ok("1: one\ntrue: yes\nnull: x\n")
    assert data == {"1": "one", "true": "yes", "null": "x"}


# ---- syntax errors and empty files -------------------------------------------------------

def test_syntax_error_is_e101_at_the_problem():
    _, _, diagnostics = load("scheme:\n  title: a: b\n")
    assert codes(diagnostics) == ["E101"]
    d = diagnostics[0]
    assert (d.location.line, d.location.col) == (2, 11)
    assert "mapping values are not allowed here" in d.message


def test_tab_indentation_gets_a_hint():
    _, _, diagnostics = load("scheme:\n\tcode: x\n")
    assert codes(diagnostics) == ["E101"]
    assert diagnostics[0].location.line == 2
    assert "tabs" in diagnostics[0].hint


def test_several_documents_are_refused():
    _, _, diagnostics = load("a: 1\n---\nb: 2\n")
    assert codes(diagnostics) == ["E101"]
    assert diagnostics[0].location.line == 2


def test_an_unclosed_flow_list_names_the_line_it_was_opened_on():
    _, _, diagnostics = load("scheme:\n  languages: [en, fr\n  unit: household\n")
    assert codes(diagnostics) == ["E101"]
    d = diagnostics[0]
    assert d.location.line == 2 or "line 2" in d.message


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n", "# a\n\n# b\n"])
def test_empty_files_are_e106(text):
    data, _, diagnostics = load(text)
    assert data is None
    assert codes(diagnostics) == ["E106"]
    assert (diagnostics[0].location.line, diagnostics[0].location.col) == (1, 1)


def test_source_map_keeps_the_text_and_file():
    _, sm = load_ok("a: 1\n")
    assert isinstance(sm, SourceMap)
    assert sm.file == "t.yaml" and sm.text == "a: 1\n"
