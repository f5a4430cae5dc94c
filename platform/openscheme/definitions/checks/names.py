"""Duplicate and clashing names: fields, rules, benefits, services, choices."""

from __future__ import annotations

from ...formulas.functions import BUILTIN_NAMES, SIGNATURES

RESERVED = set(SIGNATURES) | set(BUILTIN_NAMES) | {"members", "True", "False", "None", "as_of"}


def check_unique(compiler, items, what: str, code: str) -> None:
    """items: iterable of (name, path); reports the second and later uses of a name."""
    seen: dict[str, tuple] = {}
    for name, path in items:
        if name is None:
            continue
        if name in seen:
            first = compiler.source_map.position(seen[name]).line
            compiler.error(code, f"duplicate {what} '{name}' (first declared at line {first})", path)
        else:
            seen[name] = path


def check_reserved(compiler, name: str, path: tuple, what: str) -> bool:
    if name in RESERVED:
        compiler.error("E303", f"the {what} name '{name}' is reserved by the formula language", path,
                       "choose another name")
        return False
    return True
