"""The code catalogue, the generated docs and the exported JSON Schema stay in sync with the code."""

import json
import re
from pathlib import Path

from openscheme.definitions.codes import CODES, markdown
from openscheme.definitions.schema import SCHEMA

ROOT = Path(__file__).resolve().parents[1]


def emitted_codes() -> set[str]:
    found = set()
    for path in (ROOT / "platform" / "openscheme").rglob("*.py"):
        if path.name == "codes.py":
            continue
        found |= set(re.findall(r'"([EW]\d{3})"', path.read_text("utf-8")))
    return found


def test_every_emitted_code_is_catalogued():
    missing = emitted_codes() - set(CODES)
    assert not missing, f"codes used but not in codes.py: {sorted(missing)}"


def test_error_codes_doc_is_generated_from_the_catalogue():
    doc = (ROOT / "docs" / "error-codes.md").read_text("utf-8")
    assert doc.strip() == markdown().strip(), "run: python -m openscheme.definitions.codes > docs/error-codes.md"


def test_exported_schema_matches():
    exported = json.loads((ROOT / "docs" / "scheme-definition.schema.json").read_text("utf-8"))
    assert exported == json.loads(json.dumps(SCHEMA)), "run: openscheme schema -o docs/scheme-definition.schema.json"


def test_no_platform_init_shadowing_stdlib():
    assert not (ROOT / "platform" / "__init__.py").exists()
    import platform

    assert hasattr(platform, "python_version"), "the stdlib 'platform' module must not be shadowed"
