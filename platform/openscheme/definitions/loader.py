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

from .diagnostics import Diagnostic, Location

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
        if key and pos.key_line:
            return Location(self.file, pos.key_line, pos.key_col)
        return Location(self.file, pos.line, pos.col)

    def formula_location(self, path, line: int, col: int) -> Location:
        """Where (line, col) inside a formula string sits in the file.

        `line` is 1-based and `col` 0-based within the formula's own text."""
        pos = self.position(path)
        if pos.style in ("|", ">"):
            # a block scalar's content starts on the next line, indented
            src_lines = self.text.split("\n")
            first = pos.line  # 1-based line of the indicator; content starts after it
            content_line = first + line  # 1-based
            if 0 < content_line <= len(src_lines):
                raw = src_lines[content_line - 1]
                indent = len(raw) - len(raw.lstrip(" "))
                if pos.style == ">" and line > 1:
                    return Location(self.file, content_line, indent + 1)
                return Location(self.file, content_line, indent + col + 1)
            return Location(self.file, pos.line, pos.col)
        if line == 1:
            shift = 1 if pos.style in ("'", '"') else 0
            return Location(self.file, pos.line, pos.col + col + shift)
        return Location(self.file, pos.line + line - 1, col + 1)


class _Composer(yaml.SafeLoader):
    """Only composes: values are built by `_Builder`, never by PyYAML constructors."""


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.source_map = SourceMap(file)
        self.diagnostics: list[Diagnostic] = []
        self.count = 0

    def loc(self, mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, mark, code: str, message: str, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(code, message, self.loc(mark), hint))

    def build(self, node, path: tuple, depth: int = 0, key_mark=None, active=frozenset()):
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge(node.start_mark)
        if depth > MAX_DEPTH:
            raise _TooDeep(node.start_mark)
        if id(node) in active:
            raise _Recursive(node.start_mark)
        style = getattr(node, "style", None)
        self.source_map.positions.setdefault(path, Position(
            node.start_mark.line + 1, node.start_mark.column + 1, style,
            key_mark.line + 1 if key_mark else 0, key_mark.column + 1 if key_mark else 0))
        if node.tag and node.tag.startswith("!") and not node.tag.startswith("tag:yaml.org,2002:"):
            self.error(node.start_mark, "E103", f"the YAML tag '{node.tag}' is not supported",
                       "remove the tag; definitions are plain data")
        if isinstance(node, yaml.MappingNode):
            result: dict = {}
            inner = active | {id(node)}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.error(key_node.start_mark, "E103", "YAML merge keys ('<<') are not supported",
                               "use a preset or repeat the keys")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.error(key_node.start_mark, "E104", "a key must be a plain word")
                    continue
                key = key_node.value
                if key in result:
                    first = self.source_map.positions.get(path + (key,))
                    where = f" (first at line {first.key_line})" if first and first.key_line else ""
                    self.error(key_node.start_mark, "E102", f"duplicate key '{key}'{where}",
                               "YAML would silently keep only the last one")
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
        if node.tag == "tag:yaml.org,2002:str":
            return text
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
        hint = "check the indentation and the ':' after each key"
        if "\t" in text and "tab" in problem.lower() or "found character '\\t'" in problem:
            hint = "use spaces, not tabs, for indentation"
        return None, builder.source_map, [Diagnostic("E101", f"YAML syntax error: {problem}{context}",
                                                     Location(file, line, col), hint)]
    except yaml.YAMLError as exc:
        return None, builder.source_map, [Diagnostic("E101", f"YAML error: {exc}", Location(file, 1, 1))]
    except (RecursionError, MemoryError):
        return None, builder.source_map, [Diagnostic("E105", "the document is nested too deeply", Location(file, 1, 1))]
    if node is None:
        return None, builder.source_map, [Diagnostic("E106", "the file is empty", Location(file, 1, 1),
                                                     "start from an example: openscheme clone EXAMPLE NEW_CODE")]
    try:
        data = builder.build(node, ())
    except _Recursive as exc:
        return None, builder.source_map, [Diagnostic("E105", "a YAML alias refers to itself", builder.loc(exc.mark))]
    except _TooDeep as exc:
        return None, builder.source_map, [Diagnostic("E105", f"the document is nested more than {MAX_DEPTH} levels deep", builder.loc(exc.mark))]
    except _TooLarge as exc:
        return None, builder.source_map, [Diagnostic("E105", f"the document expands to more than {MAX_NODES} values (aliases?)", builder.loc(exc.mark))]
    except RecursionError:
        return None, builder.source_map, [Diagnostic("E105", "the document is nested too deeply", Location(file, 1, 1))]
    return data, builder.source_map, builder.diagnostics
