"""Loading YAML while remembering where every node came from.

PyYAML's composer gives us a node tree with marks; we build plain Python values
from it ourselves so that:
- every value's position is kept in a `SourceMap` (path -> line/col), which is
  how structure and semantic errors point at the exact line;
- duplicate keys are errors (PyYAML would silently keep the last one);
- scalars follow YAML 1.2's core schema: only true/false are booleans (a choice
  value `no` or `NO` stays text - the "Norway problem"), dates stay text until the
  compiler types them, decimals become `Decimal`, never float;
- nothing executes: no Python tags, aliases are bounded (no "billion laughs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import yaml

from ..formulas.messages import say
from .diagnostics import Diagnostic, Location
from .messages import Technical

MAX_NODES = 200_000
MAX_DEPTH = 100

INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
BOOL_VALUES = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
NULL_VALUES = {"", "~", "null", "Null", "NULL"}


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    col: int  # 1-based
    style: str | None = None  # YAML scalar style: None (plain), "'", '"', "|", ">"
    key_line: int = 0  # where the key of this value sits (for "unknown key" errors)
    key_col: int = 0
    end_line: int = 0  # where the value ends (0-based line, 0-based column, as PyYAML marks)
    end_col: int = 0
    block: bool = False  # a block mapping or list: problems with it are shown at its key


@dataclass
class SourceMap:
    file: str
    positions: dict[tuple, Position] = field(default_factory=dict)
    text: str = ""

    def position(self, path) -> Position:
        path = tuple(path)
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, Position(1, 1))

    def at(self, path, key: bool = False) -> Location:
        pos = self.position(path)
        if (key or pos.block) and pos.key_line:
            return Location(self.file, pos.key_line, pos.key_col)
        return Location(self.file, pos.line, pos.col)

    def formula_location(self, path, line: int, col: int) -> Location:
        """Where (line, col) inside a formula string sits in the file.

        `line` is 1-based and `col` 0-based within the formula's own text. YAML may have
        folded the formula (a `>` block, a plain or quoted scalar over several lines),
        removed indentation or collapsed escapes; `scalar_positions` replays those rules
        so the column lands on the character the implementer wrote."""
        pos = self.position(path)
        positions = scalar_positions(self.text, pos)
        if positions:
            value_lines = "".join(ch for ch, _ in positions).split("\n")
            offset = sum(len(x) + 1 for x in value_lines[: line - 1]) + col
            offset = max(0, min(offset, len(positions) - 1))
            src_line, src_col = positions[offset][1]
            return Location(self.file, src_line + 1, src_col + 1)
        return Location(self.file, pos.line, pos.col)


def scalar_positions(text: str, pos: Position) -> list[tuple[str, tuple[int, int]]]:
    """Each character of a scalar's value with its (line, col) in the source, both 0-based.

    Covers the cases formulas meet: plain and quoted scalars (folded over lines, '' and \\
    escapes) and block scalars (| keeps line breaks, > folds them). Returns [] when the
    source does not look as expected (the caller then points at the value's start)."""
    lines = text.split("\n")
    if not pos.end_line and not pos.end_col:
        return []
    start_line, start_col = pos.line - 1, pos.col - 1
    out: list[tuple[str, tuple[int, int]]] = []
    if pos.style in ("|", ">"):
        content = [i for i in range(start_line + 1, min(pos.end_line + 1, len(lines))) if lines[i].strip()]
        if not content:
            return []
        indent = len(lines[content[0]]) - len(lines[content[0]].lstrip(" "))
        previous, previous_line = None, content[0]
        for i in range(content[0], content[-1] + 1):
            raw = lines[i]
            if not raw.strip():
                out.append(("\n", (i, 0)))
                previous = None
                continue
            more_indented = len(raw) - len(raw.lstrip(" ")) > indent
            if previous is not None:
                fold = pos.style == ">" and not more_indented and not previous
                out.append((" " if fold else "\n", (previous_line, len(lines[previous_line]))))
            out += [(ch, (i, c)) for c, ch in enumerate(raw) if c >= indent]
            previous, previous_line = more_indented, i
        return out
    quote = pos.style if pos.style in ("'", '"') else None
    i, c = start_line, start_col + (1 if quote else 0)
    end = (pos.end_line, pos.end_col - (1 if quote else 0))
    pending_space = None
    while (i, c) < end and i < len(lines):
        raw = lines[i]
        if c >= len(raw):  # a line break inside the scalar folds to one space
            i, c = i + 1, 0
            if i < len(lines):
                stripped = len(lines[i]) - len(lines[i].lstrip(" \t"))
                pending_space = (i - 1, len(raw))
                c = stripped
            continue
        if pending_space is not None:
            out.append((" ", pending_space))
            pending_space = None
        ch = raw[c]
        if quote == "'" and ch == "'" and c + 1 < len(raw) and raw[c + 1] == "'":
            out.append(("'", (i, c)))
            c += 2
            continue
        if quote == '"' and ch == "\\" and c + 1 < len(raw):
            out.append((raw[c + 1], (i, c)))
            c += 2
            continue
        out.append((ch, (i, c)))
        c += 1
    return [(ch, p) for ch, p in out] if out else []


STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}


class _Composer(yaml.SafeLoader):
    """Only composes: values are built by `_Builder`, never by PyYAML constructors.

    It also records whether a node's tag was written in the file (`!!python/...`, `!x`)
    rather than resolved from its text, so that every written tag but the standard
    ones is refused and a plain `1e-3` can be read as a number (YAML 1.2)."""

    def _explicit(self) -> bool:
        tag = self.peek_event().tag
        return tag not in (None, "!")

    def compose_scalar_node(self, anchor):
        explicit = self._explicit()
        node = super().compose_scalar_node(anchor)
        node.explicit_tag = explicit
        return node

    def compose_sequence_node(self, anchor):
        explicit = self._explicit()
        node = super().compose_sequence_node(anchor)
        node.explicit_tag = explicit
        return node

    def compose_mapping_node(self, anchor):
        explicit = self._explicit()
        node = super().compose_mapping_node(anchor)
        node.explicit_tag = explicit
        return node


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.source_map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0

    def loc(self, mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, mark, code: str, message: str, hint: str = "", *, said=None, hint_said=None) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.loc(mark), hint, said=said, hint_said=hint_said))

    def build(self, node, path: tuple, depth: int = 0, key_mark=None, active=frozenset()):
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(node.start_mark)
        if depth > MAX_DEPTH:
            raise _TooDeep(node.start_mark)
        if id(node) in active:
            raise _Recursive(node.start_mark)
        is_collection = isinstance(node, (yaml.MappingNode, yaml.SequenceNode))
        style = None if is_collection else getattr(node, "style", None)
        self.source_map.positions.setdefault(path, Position(
            node.start_mark.line + 1, node.start_mark.column + 1, style,
            key_mark.line + 1 if key_mark else 0, key_mark.column + 1 if key_mark else 0,
            node.end_mark.line, node.end_mark.column, is_collection and not getattr(node, "flow_style", False)))
        if getattr(node, "explicit_tag", False) and node.tag not in STANDARD_TAGS:
            shown = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.error(node.start_mark, "E103", f"the YAML tag '{shown}' is not supported",
                       "remove the tag; definitions are plain data",
                       said=say("l_tag", tag=shown), hint_said=say("l_hint_remove_tag"))
            return None
        if isinstance(node, yaml.MappingNode):
            result: dict = {}
            inner = active | {id(node)}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.error(key_node.start_mark, "E103", "YAML merge keys ('<<') are not supported",
                               "use a preset or repeat the keys", said=say("l_merge_key"), hint_said=say("l_hint_merge_key"))
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.error(key_node.start_mark, "E104", "a key must be a plain word", said=say("l_key_not_word"))
                    continue
                key = key_node.value
                if key in result:
                    first = self.source_map.positions.get(path + (key,))
                    where = f" (first at line {first.key_line})" if first and first.key_line else ""
                    said = say("l_duplicate_key_at", key=key, line=first.key_line) if where else say("l_duplicate_key", key=key)
                    self.error(key_node.start_mark, "E102", f"duplicate key '{key}'{where}",
                               "YAML would silently keep only the last one", said=said, hint_said=say("l_hint_last_one"))
                    continue
                result[key] = self.build(value_node, path + (key,), depth + 1, key_node.start_mark, inner)
            return result
        if isinstance(node, yaml.SequenceNode):
            inner = active | {id(node)}
            return [self.build(item, path + (i,), depth + 1, None, inner) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node):
        text = node.value
        if node.style is not None:  # quoted or block scalars are always text
            return text
        if getattr(node, "explicit_tag", False) and node.tag == "tag:yaml.org,2002:str":
            return text  # !!str 5 is the text "5"
        if text in NULL_VALUES:
            return None
        if text in BOOL_VALUES:
            return BOOL_VALUES[text]
        if INT_RE.match(text):
            return int(text.replace("_", ""))
        if FLOAT_RE.match(text) and any(ch.isdigit() for ch in text):
            return Decimal(text.replace("_", ""))
        return text


class _TooLarge(Exception):
    def __init__(self, mark):
        self.mark = mark


class _TooDeep(_TooLarge):
    pass


class _Recursive(_TooLarge):
    pass


def load_yaml(text: str, file: str) -> tuple[object, SourceMap, list[Diagnostic]]:
    """Parse YAML text into plain data, a source map and load diagnostics."""
    builder = _Builder(file)
    builder.source_map.text = text
    try:
        node = yaml.compose(text, Loader=_Composer)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or "invalid YAML").strip()
        context = f" {exc.context}" if exc.context else ""
        started = ""
        if exc.context_mark is not None and exc.problem_mark is not None and \
                exc.context_mark.line != exc.problem_mark.line:
            started = f" started at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        hint, hint_said = "check the indentation and the ':' after each key", say("l_hint_indentation")
        if "\t" in text and "tab" in problem.lower() or "found character '\\t'" in problem:
            hint, hint_said = "use spaces, not tabs, for indentation", say("l_hint_tabs")
        said = say("l_yaml_syntax", problem=Technical(problem), context=Technical(exc.context, " ") if exc.context else "",
                   started=say("l_started_at", line=exc.context_mark.line + 1, col=exc.context_mark.column + 1)
                   if started else "")
        return None, builder.source_map, [Diagnostic("E101", f"YAML syntax error: {problem}{context}{started}",
                                                     Location(file, line, col), hint, said=said, hint_said=hint_said)]
    except yaml.YAMLError as exc:
        return None, builder.source_map, [Diagnostic("E101", f"YAML error: {exc}", Location(file, 1, 1),
                                                     said=say("l_yaml_error", detail=Technical(str(exc))))]
    except (RecursionError, MemoryError):
        return None, builder.source_map, [Diagnostic("E105", "the document is nested too deeply", Location(file, 1, 1),
                                                     said=say("l_nested_too_deeply"))]
    if node is None:
        return None, builder.source_map, [Diagnostic("E106", "the file is empty", Location(file, 1, 1),
                                                     "start from an example: openscheme clone EXAMPLE NEW_CODE",
                                                     said=say("l_empty_file"), hint_said=say("l_hint_start_example"))]
    try:
        data = builder.build(node, ())
    except _Recursive as exc:
        return None, builder.source_map, [Diagnostic("E105", "a YAML alias refers to itself", builder.loc(exc.mark),
                                                     said=say("l_alias_itself"))]
    except _TooDeep as exc:
        return None, builder.source_map, [Diagnostic("E105", f"the document is nested more than {MAX_DEPTH} levels deep",
                                                     builder.loc(exc.mark), said=say("l_nested_more_than", max=MAX_DEPTH))]
    except _TooLarge as exc:
        return None, builder.source_map, [Diagnostic("E105", f"the document expands to more than {MAX_NODES} values (aliases?)",
                                                     builder.loc(exc.mark), said=say("l_too_many_values", max=MAX_NODES))]
    except RecursionError:
        return None, builder.source_map, [Diagnostic("E105", "the document is nested too deeply", Location(file, 1, 1),
                                                     said=say("l_nested_too_deeply"))]
    if data is None and not builder.diagnostics:
        return None, builder.source_map, [Diagnostic("E106", "the file holds no definition (only an empty value)",
                                                     Location(file, 1, 1),
                                                     "start from an example: openscheme clone EXAMPLE NEW_CODE",
                                                     said=say("l_only_empty_value"), hint_said=say("l_hint_start_example"))]
    return data, builder.source_map, builder.diagnostics
