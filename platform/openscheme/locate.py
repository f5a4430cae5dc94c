"""Finding scheme definitions and examples by path, file name or scheme code."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def examples_dir() -> Path:
    env = os.environ.get("OPENSCHEME_EXAMPLES")
    if env:
        return Path(env)
    local = Path.cwd() / "examples"
    return local if local.is_dir() else PROJECT_ROOT / "examples"


def definitions_dir() -> Path:
    env = os.environ.get("OPENSCHEME_DEFINITIONS")
    return Path(env) if env else Path.cwd() / "scheme_definitions"


def yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def _code_of(path: Path) -> str | None:
    """The scheme code written in a file, read cheaply (no full compile)."""
    try:
        in_scheme = False
        for line in path.read_text("utf-8").splitlines():
            if line.startswith("scheme:"):
                in_scheme = True
            elif in_scheme and line.strip().startswith("code:"):
                return line.split(":", 1)[1].strip().strip("'\"")
            elif line and not line[0].isspace() and not line.startswith("#"):
                in_scheme = line.startswith("scheme:")
    except (OSError, UnicodeDecodeError):
        return None
    return None


def find_definition(name: str) -> Path | None:
    """A path, or a file stem / scheme code in scheme_definitions/ then examples/."""
    p = Path(name)
    if p.is_file():
        return p
    for directory in (definitions_dir(), examples_dir()):
        if not directory.is_dir():
            continue
        for candidate in yaml_files(directory):
            if candidate.stem == name or candidate.stem == name.replace("-", "_") or _code_of(candidate) == name:
                return candidate
    return None


def available() -> list[Path]:
    out = []
    for directory in (definitions_dir(), examples_dir()):
        if directory.is_dir():
            out += yaml_files(directory)
    return out
