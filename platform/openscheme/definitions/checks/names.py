"""Duplicate and clashing names: fields, rules, benefits, services, choices."""

from __future__ import annotations

from ...formulas.functions import BUILTIN_NAMES, SIGNATURES
from ...formulas.messages import say
from .. import messages as _messages  # noqa: F401 - registers the n_* messages with `say`

RESERVED = set(SIGNATURES) | set(BUILTIN_NAMES) | {"members", "True", "False", "None", "as_of"}
# what check_unique and check_reserved are told a name is -> their message (definitions/messages.py)
DUPLICATE_KEYS = {"field": "n_duplicate_field", "choice value": "n_duplicate_choice_value", "rule": "n_duplicate_rule",
                  "condition": "n_duplicate_condition", "indicator": "n_duplicate_indicator",
                  "benefit code": "n_duplicate_benefit_code", "service or item code": "n_duplicate_service_code",
                  "voucher type": "n_duplicate_voucher_type"}
RESERVED_KEYS = {"field": "n_reserved_field", "constant": "n_reserved_constant", "table": "n_reserved_table"}


def check_unique(compiler, items, what: str, code: str) -> None:
    """items: iterable of (name, path); reports the second and later uses of a name."""
    seen: dict[str, tuple] = {}
    for name, path in items:
        if name is None:
            continue
        if name in seen:
            first = compiler.source_map.position(seen[name]).line
            compiler.error(code, f"duplicate {what} '{name}' (first declared at line {first})", path,
                           said=say(DUPLICATE_KEYS[what], name=name, line=first))
        else:
            seen[name] = path


def check_reserved(compiler, name: str, path: tuple, what: str) -> bool:
    if name in RESERVED:
        compiler.error("E303", f"the {what} name '{name}' is reserved by the formula language", path,
                       "choose another name", said=say(RESERVED_KEYS[what], name=name), hint_said=say("n_hint_other_name"))
        return False
    return True
