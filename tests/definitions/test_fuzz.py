"""Property tests: whatever the input, the compiler answers with diagnostics, never
with an exception or an internal error (E000).

Three sources of input: arbitrary text, random YAML-shaped data, and mutations of a
real definition (examples/gm_nafa_quick.yaml) - the last reaches the semantic checks,
the formulas and the embedded tests, where most of the code is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscheme.definitions import CompileResult, compile_text

ROOT = Path(__file__).resolve().parents[2]
NAFA_TEXT = (ROOT / "examples" / "gm_nafa_quick.yaml").read_text("utf-8")
NAFA_LINES = NAFA_TEXT.split("\n")
NAFA_TOKENS = sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_-]*|\d+(?:\.\d+)?|[\[\]{}:,\-\"'#|>*&]", NAFA_TEXT)))
NAFA_DATA = yaml.safe_load(NAFA_TEXT)

# OPENSCHEME_FUZZ_EXAMPLES=5000 for a longer hunt
FUZZ = settings(max_examples=int(os.environ.get("OPENSCHEME_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> CompileResult:
    result = compile_text(text, "fuzz.yaml")
    assert isinstance(result, CompileResult)
    internal = [str(d) for d in result.diagnostics if d.code == "E000"]
    assert not internal, internal
    for d in result.diagnostics:
        assert d.location.line >= 1 and d.location.col >= 1, str(d)
        assert re.fullmatch(r"[EW]\d{3}", d.code), str(d)
        assert str(d).startswith(f"fuzz.yaml:{d.location.line}:{d.location.col}: {d.code} ")
    if result.ok:
        assert result.scheme is not None
    return result


# ---- (a) arbitrary text ------------------------------------------------------------------

@FUZZ
@given(st.text())
def test_arbitrary_text_never_crashes(text):
    check(text)


YAMLISH = st.lists(st.sampled_from(list("abcxyz019 :-_[]{},#&*!|>'\"\n\t.~?%@`\\")
                                   + ["scheme:", "fields:", "\n  ", "\n- ", "name: ", "type: ", "!!str", "&a", "*a"]),
                   max_size=80).map("".join)


@FUZZ
@given(YAMLISH)
def test_yaml_like_text_never_crashes(text):
    check(text)


# ---- (b) random YAML-shaped data ---------------------------------------------------------

# Magnitudes stay below 10**28: larger amounts crash the engine (a known bug, see
# test_compiler.py::test_a_huge_amount_is_not_an_internal_error); widen them once it is fixed.
SCALARS = (st.none() | st.booleans() | st.integers(-10**12, 10**12)
           | st.floats(min_value=-1e12, max_value=1e12, allow_nan=False) | st.text(max_size=20)
           | st.sampled_from(["", "no", "yes", "2020-08-01", "2020-02-30", "1e3", "x == 1", "members",
                              "cash", "insurance", "voucher", "household", "text", "select_one", "today()"]))
KEYS = st.text(max_size=10) | st.sampled_from(sorted(NAFA_DATA) + sorted(NAFA_DATA["scheme"])
                                             + ["name", "type", "formula", "code", "kind", "label", "preset"])
YAML_DATA = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(KEYS, children, max_size=4), max_leaves=25)


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@FUZZ
@given(YAML_DATA)
def test_random_yaml_data_never_crashes(data):
    check(dump(data))


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(NAFA_DATA)), YAML_DATA, min_size=1))
def test_random_top_level_sections_never_crash(sections):
    check(dump(sections))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


NAFA_PATHS = [p for p in _paths(NAFA_DATA) if p]


def _replaced(data, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    out = dict(data) if isinstance(data, dict) else list(data)
    out[head] = _replaced(data[head], rest, new)
    return out


@FUZZ
@given(st.sampled_from(NAFA_PATHS), YAML_DATA)
def test_a_real_definition_with_one_value_replaced_never_crashes(path, new):
    check(dump(_replaced(NAFA_DATA, path, new)))


# ---- (c) mutations of a real definition --------------------------------------------------

@st.composite
def mutation(draw, lines: list[str]) -> list[str]:
    lines = list(lines)
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "indent"]))
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "token":
        tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_-]*|\d+(?:\.\d+)?|[^\sA-Za-z0-9]", lines[i])
        if tokens:
            old = draw(st.sampled_from(tokens))
            new = draw(st.sampled_from(NAFA_TOKENS))
            n = draw(st.integers(1, 3))
            lines[i] = lines[i].replace(old, new, n)
    else:
        delta = draw(st.sampled_from([-4, -2, -1, 1, 2, 4]))
        if delta > 0:
            lines[i] = " " * delta + lines[i]
        else:
            lines[i] = lines[i][min(-delta, len(lines[i]) - len(lines[i].lstrip(" "))):]
    return lines


@st.composite
def mutated_nafa(draw) -> str:
    lines = NAFA_LINES
    for _ in range(draw(st.integers(1, 3))):
        lines = draw(mutation(lines))
    return "\n".join(lines)


@FUZZ
@given(mutated_nafa())
def test_mutations_of_a_real_definition_never_crash(text):
    check(text)


def test_the_unmutated_definition_is_ok():
    assert check(NAFA_TEXT).ok
