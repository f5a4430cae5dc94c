"""Every broken definition in tests/fixtures/invalid/ is reported where it is broken.

Each fixture is a small, complete scheme with exactly one deliberate mistake. A
comment directly above the offending line says what the compiler must report:

    # expect: E410 unknown name 'incme'      code and a fragment of the printed problem
    # expect-hint: did you mean 'income'?    optional: a fragment of the hint
    # expect-line: 12                        optional: the line, when not the next one
    # expect-col: 43                         optional: the column (1-based)
    formula: sum(members, incme) > 0         <- the expected line

The expected line is the first line after the `# expect:` comment that is not
itself an `# expect-...` directive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from openscheme.definitions import compile_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
FILES = sorted(FIXTURES.glob("*.yaml"))

DIRECTIVE = re.compile(r"^\s*#\s*expect(?P<kind>-line|-col|-hint)?:\s*(?P<value>.*?)\s*$")

# Fixtures whose expectation documents a compiler bug, for the lead to fix (strict xfail:
# once fixed, the fixture passes and its entry must be removed).
_BLOCK_MAPPING = ("a problem with a whole block mapping is reported at its first child key "
                  "instead of at the mapping's own key")
_FOLDED = ("a formula folded onto one line by YAML ('>' or a multi-line plain scalar) "
           "reports its errors on the first line, at a column past its end")
_INDENTED = ("in a '|' formula, a line indented deeper than the block gets its extra "
             "indentation counted twice in the column")
KNOWN_BUGS: dict[str, str] = {}


@dataclass(frozen=True)
class Expectation:
    code: str
    fragment: str
    line: int
    col: int | None
    hint: str | None


def parse_expectation(path: Path) -> Expectation:
    lines = path.read_text("utf-8").split("\n")
    found = [(i, m) for i, text in enumerate(lines) if (m := DIRECTIVE.match(text)) and m["kind"] is None]
    assert len(found) == 1, f"{path.name}: needs exactly one '# expect:' comment, found {len(found)}"
    index, match = found[0]
    code, _, fragment = match["value"].partition(" ")
    assert re.fullmatch(r"[EW]\d{3}", code), f"{path.name}: '# expect:' must start with a code, not {code!r}"
    options: dict[str, str] = {}
    line = None
    for j in range(index + 1, len(lines)):
        m = DIRECTIVE.match(lines[j])
        if m is None:
            line = j + 1
            break
        assert m["kind"] is not None, f"{path.name}: a second '# expect:' follows the first"
        options[m["kind"]] = m["value"]
    if "-line" in options:
        line = int(options["-line"])
    assert line is not None, f"{path.name}: nothing follows the '# expect:' comment"
    col = int(options["-col"]) if "-col" in options else None
    return Expectation(code, fragment.strip(), line, col, options.get("-hint"))


def _param(path: Path):
    marks = []
    if path.stem in KNOWN_BUGS:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[path.stem]))
    return pytest.param(path, id=path.stem, marks=marks)


def test_there_are_enough_fixtures():
    assert len(FILES) >= 40, f"only {len(FILES)} fixtures in {FIXTURES}"


def test_known_bugs_name_existing_fixtures():
    assert set(KNOWN_BUGS) <= {p.stem for p in FILES}


@pytest.mark.parametrize("path", [_param(p) for p in FILES])
def test_fixture_is_reported_where_it_is_broken(path: Path):
    expected = parse_expectation(path)
    result = compile_file(path)
    shown = "\n".join(f"  {d}" for d in result.diagnostics) or "  (no diagnostics)"

    internal = [d for d in result.diagnostics if d.code == "E000"]
    assert not internal, f"{path.name}: internal error\n{shown}"
    assert not result.ok, f"{path.name}: the broken definition compiled without errors\n{shown}"

    def matches(d) -> bool:
        return (d.code == expected.code and d.location.line == expected.line
                and (expected.col is None or d.location.col == expected.col)
                and expected.fragment in str(d)
                and (expected.hint is None or expected.hint in d.hint))

    where = f"{expected.line}" + (f":{expected.col}" if expected.col else "")
    assert any(matches(d) for d in result.diagnostics), (
        f"{path.name}: expected {expected.code} at {where} containing {expected.fragment!r}"
        + (f" with hint {expected.hint!r}" if expected.hint else "") + f"; got:\n{shown}")
    for d in result.diagnostics:
        text = str(d)
        assert text.startswith(f"{path}:{d.location.line}:{d.location.col}: {d.code} "), text
        assert d.location.line >= 1 and d.location.col >= 1, text


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in FILES])
def test_fixture_name_matches_its_code(path: Path):
    expected = parse_expectation(path)
    assert path.stem.startswith(expected.code.lower() + "_"), (
        f"{path.name} expects {expected.code}; name it {expected.code.lower()}_...")
