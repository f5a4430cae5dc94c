"""The formula workbench's core: which formulas an analyst may edit, checking a formula as it
is typed in the scheme's own scope, and writing it back into the definition text.

    check(scheme, "eligibility.poorest_district", "distrct in poorest_districts")
    # -> Check(ok=False, code="E401", message="unknown name 'distrct'", hint="did you mean 'district'?", col=1)
    replace_formula(scheme.text, ("eligibility", 0, "formula"), "district in poorest_districts and ...")

A formula is checked exactly as the compiler checks it: the scope (declared fields, member
fields, constants, choices) and the expected type are captured by compiling the scheme once
with a compiler that records them (cached by content hash), so a keystroke costs a formula
check (microseconds), not a whole compile.

The new definition text is the old text with only the formula's characters replaced - found
by the position of the YAML node, so comments, order and layout stay as the author wrote
them; the result is parsed again and must equal the old document but for that one value.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from threading import Lock

import yaml

from ..definitions.compiler import Compiler, CompileResult, compile_text
from ..definitions.loader import load_yaml
from ..definitions.model import Scheme
from ..definitions.structure import validate_structure
from ..formulas import FormulaError, T, compile_formula
from ..formulas.messages import Said, say
from ..formulas.types import article
from .messages import MessageError, Msg, msg


@dataclass(frozen=True)
class Target:
    key: str  # eligibility.<rule> | benefits.<code>.amount | benefits.<code>.eligible_when | benefits.<code>.conditions.<name>
    path: tuple  # where the formula sits in the document
    kind: str  # eligibility | amount | eligible_when | condition
    name: str  # rule, benefit or condition name
    title: Msg  # in plain words, in any language: title.text("fr")
    text: str  # the current formula

    @property
    def label(self) -> str:
        """In English: "eligibility rule poorest_district", "benefit nafa_quick: amount"."""
        return self.title.text("en")


def key_title(key: str) -> Msg:
    """The plain words of a target key, also of one the scheme no longer has (a stored proposal's)."""
    parts = key.split(".")
    if len(parts) == 2 and parts[0] == "eligibility":
        return msg("target_eligibility", name=parts[1])
    if len(parts) == 3 and parts[0] == "benefits" and parts[2] in ("amount", "eligible_when"):
        return msg(f"target_{parts[2]}", code=parts[1])
    if len(parts) == 4 and parts[0] == "benefits" and parts[2] == "conditions":
        return msg("target_condition", code=parts[1], name=parts[3])
    return msg("target_other", key=key)


def targets(scheme: Scheme) -> list[Target]:
    out = []
    for r in scheme.eligibility:
        key = f"eligibility.{r.name}"
        out.append(Target(key, r.path + ("formula",), "eligibility", r.name, key_title(key), r.formula.text))
    for b in scheme.benefits:
        if b.eligible_when is not None:
            key = f"benefits.{b.code}.eligible_when"
            out.append(Target(key, b.path + ("eligible_when",), "eligible_when", b.code, key_title(key),
                              b.eligible_when.text))
        if b.kind == "cash" and b.amount is not None:
            key = f"benefits.{b.code}.amount"
            out.append(Target(key, b.path + ("amount",), "amount", b.code, key_title(key), b.amount.text))
        for j, c in enumerate(b.conditions):
            key = f"benefits.{b.code}.conditions.{c.name}"
            out.append(Target(key, b.path + ("conditions", j, "formula"), "condition", c.name, key_title(key),
                              c.formula.text))
    return out


def target(scheme: Scheme, key: str) -> Target | None:
    return next((t for t in targets(scheme) if t.key == key), None)


# ---- the scope of each formula -------------------------------------------------------------------


class _ScopeRecorder(Compiler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes: dict[tuple, tuple] = {}

    def formula(self, text, path, scope, expect, what):
        self.scopes[tuple(path)] = (scope, expect, what)
        return super().formula(text, path, scope, expect, what)


_scopes: dict[str, dict[tuple, tuple]] = {}
_lock = Lock()


def scopes(scheme: Scheme) -> dict[tuple, tuple]:
    """(scope, expected type, what) of every formula of the scheme, by path."""
    with _lock:
        cached = _scopes.get(scheme.content_hash)
    if cached is not None:
        return cached
    data, source_map, _ = load_yaml(scheme.text, scheme.file)
    if data is None or validate_structure(data, source_map):
        return {}
    recorder = _ScopeRecorder(data, source_map, scheme.file, scheme.text)
    recorder.compile()
    with _lock:
        if len(_scopes) > 64:
            _scopes.clear()
        _scopes[scheme.content_hash] = recorder.scopes
    return recorder.scopes


@dataclass(frozen=True)
class Check:
    ok: bool
    code: str = ""
    message: str = ""  # English
    hint: str = ""  # English
    line: int = 1  # 1-based, within the formula
    col: int = 1  # 1-based, within that line
    result_type: str = ""
    said: Said | None = None  # the message and hint as data, to say in the reader's language
    hint_said: Said | None = None

    def message_text(self, lang: str | None = "en") -> str:
        return self.said.text(lang) if self.said is not None else self.message

    def hint_text(self, lang: str | None = "en") -> str:
        if not self.hint:
            return ""
        return self.hint_said.text(lang) if self.hint_said is not None else self.hint

    def as_dict(self, lang: str | None = "en") -> dict:
        """The check endpoint's answer, its message and hint in `lang`."""
        return {"ok": self.ok, "code": self.code, "message": self.message_text(lang), "hint": self.hint_text(lang),
                "line": self.line, "col": self.col, "result_type": self.result_type}


def check(scheme: Scheme, key: str, text: str) -> Check:
    """Check a formula for one target in the scheme's scope, as the compiler would."""
    t = target(scheme, key)
    if t is None:
        return Check(False, "E201", f"there is no formula '{key}' in this scheme", said=say("no_such_formula", key=key))
    if not text.strip():
        return Check(False, "E207", "the formula is empty", "write a formula, e.g. age(dob) >= 18",
                     said=say("empty"), hint_said=say("hint_write_formula"))
    found = scopes(scheme).get(t.path)
    if found is None:
        return Check(False, "E000", "the scheme's scope could not be rebuilt", said=say("no_scope"))
    scope, expect, what = found
    try:
        compiled = compile_formula(text, scope)
    except FormulaError as exc:
        return Check(False, exc.code, exc.message, exc.hint, exc.line, exc.col + 1, said=exc.said,
                     hint_said=exc.hint_said)
    if expect is not None and compiled.result_type not in (expect, T.ANY):
        hint = "compare it, e.g. ... >= 18" if expect == T.BOOL else ""
        return Check(False, "E506", f"{what} must give {article(expect)}, but this formula gives "
                                    f"{article(compiled.result_type)}", hint, 1, 1, str(compiled.result_type),
                     said=say("wrong_result", what=what, want=str(expect), got=str(compiled.result_type)),
                     hint_said=say("hint_compare_18"))
    return Check(True, result_type=str(compiled.result_type))


# ---- writing the formula back into the text ------------------------------------------------------


class EditError(MessageError, ValueError):
    """str(error) in English; error.text(lang) in the reader's language."""


def _node_at(root, path: tuple):
    node = root
    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            raise EditError("nothing_at", path=".".join(str(p) for p in path))
    if not isinstance(node, yaml.ScalarNode):
        raise EditError("not_single_value")
    return node


def _set(data, path: tuple, value):
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _block(original: str, formula: str) -> str:
    """A block scalar (| or >) with the original header and indentation."""
    header, _, body = original.partition("\n")
    content = [line for line in body.split("\n") if line.strip()]
    indent = (len(content[0]) - len(content[0].lstrip(" "))) if content else 2
    stripped = body.rstrip(" \n")
    trailing = body[len(stripped):] if stripped else "\n"
    lines = [(" " * indent + line) if line.strip() else "" for line in formula.strip("\n").split("\n")]
    header = header.replace(">", "|") if "\n" in formula.strip("\n") else header
    return header + "\n" + "\n".join(lines) + (trailing if trailing.startswith("\n") else "\n" + trailing)


def replace_formula(text: str, path: tuple, formula: str) -> str:
    """The definition text with the formula at `path` replaced; everything else kept as written."""
    data, _, diags = load_yaml(text, "<definition>")
    if data is None or any(d.is_error for d in diags):
        raise EditError("definition_does_not_load")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = _node_at(root, path)
    start, end = node.start_mark.index, node.end_mark.index
    original = text[start:end]
    formula = formula.replace("\r\n", "\n").replace("\r", "\n")
    one_line = " ".join(formula.split()) if node.style not in ("|", ">") else None
    candidates = []
    if node.style in ("|", ">"):
        candidates.append(_block(original, formula))
    else:
        if one_line and node.style is None:
            candidates.append(one_line)
        if one_line and node.style == "'":
            candidates.append("'" + one_line.replace("'", "''") + "'")
        candidates.append(json.dumps(one_line if one_line is not None else formula, ensure_ascii=False))
    expected_value = one_line if one_line is not None else formula
    wanted = copy.deepcopy(data)
    for candidate in candidates:
        new_text = text[:start] + candidate + text[end:]
        new_data, _, new_diags = load_yaml(new_text, "<definition>")
        if new_data is None or any(d.is_error for d in new_diags):
            continue
        node_value = new_data
        try:
            for step in path:
                node_value = node_value[step]
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(node_value, str) or node_value.strip() != expected_value.strip():
            continue
        _set(wanted, path, node_value)
        if new_data == wanted:
            return new_text
    raise EditError("cannot_write")


def apply(scheme: Scheme, key: str, formula: str, *, run_tests: bool = True) -> tuple[str, CompileResult]:
    """The new definition text and its compilation (with the scheme's own test cases)."""
    t = target(scheme, key)
    if t is None:
        raise EditError("no_formula", key=key)
    new_text = replace_formula(scheme.text, t.path, formula)
    return new_text, compile_text(new_text, scheme.file, run_tests=run_tests)
