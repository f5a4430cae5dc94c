"""The compiler's English, byte for byte as it was before its messages were given a French text.

english_before.json holds what every broken fixture (tests/fixtures/*/*.yaml), every example and
every case of english_cases.py printed then, one `file:line:col: CODE message (hint)` per problem.
A diagnostic said as data (`said`, `hint_said`) must say exactly its English `message` and `hint` too,
so `validate` and `validate --lang en` print the same.

Only when an English text is meant to change: `python tests/definitions/test_english_unchanged.py`
writes the file again (and the change shows in its diff).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from english_cases import CASES, diagnostics_of  # noqa: E402

from openscheme.definitions import compile_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BEFORE = Path(__file__).resolve().parent / "english_before.json"
FILES = sorted((ROOT / "tests" / "fixtures").glob("*/*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def printed(name: str) -> list:
    if name in CASES:
        diagnostics = diagnostics_of(name)
    else:
        diagnostics = compile_file(ROOT / name, display_name=Path(name).name).diagnostics
    return diagnostics


def everything() -> dict[str, list[str]]:
    return {name: [str(d) for d in printed(name)] for name in [_name(p) for p in FILES] + CASES}


@pytest.fixture(scope="module")
def before() -> dict[str, list[str]]:
    return json.loads(BEFORE.read_text("utf-8"))


def test_every_fixture_and_case_is_in_the_file(before):
    assert sorted(before) == sorted([_name(p) for p in FILES] + CASES)


@pytest.mark.parametrize("name", [_name(p) for p in FILES] + CASES)
def test_the_english_is_what_it_was(name, before):
    diagnostics = printed(name)
    assert [str(d) for d in diagnostics] == before[name]
    for d in diagnostics:
        # said as data, the English is the same text: `--lang en` prints what `validate` always printed
        assert d.text("en") == str(d), name
        assert d.message_text("en") == d.message and d.hint_text("en") == d.hint, name


if __name__ == "__main__":
    BEFORE.write_text(json.dumps(everything(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {BEFORE}")
