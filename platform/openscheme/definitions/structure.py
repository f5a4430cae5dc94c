"""Structure validation: the JSON Schema, with every error in plain words.

jsonschema finds the errors; this module reports all of them at the position of
the offending key or value, in an implementer's words ("unknown key 'tilte' -
did you mean 'title'?") rather than the validator's.
"""

from __future__ import annotations

import difflib

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..formulas.messages import say
from . import messages as _messages  # noqa: F401 - registers the structure messages (s_*) with `say`
from .diagnostics import Diagnostic
from .loader import SourceMap
from .schema import SCHEMA

_VALIDATOR = Draft202012Validator(SCHEMA)

TYPE_WORDS = {"string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
              "object": "a mapping (key: value)", "array": "a list", "null": "nothing"}


def describe(value) -> str:
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (true/false)"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value[:40]}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return repr(value)


def where(path) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in path]
    text = ".".join(parts).replace(".[", "[")
    return text or "the document"


class _Where:
    """A place in the document, said in a language (the path itself is the same in all)."""

    def __init__(self, path):
        self.path = tuple(path)

    def text(self, lang: str | None = "en") -> str:
        return where(self.path) if self.path else say("s_document").text(lang)


class _Described:
    """What a value is, in a language (`describe` in English)."""

    def __init__(self, value):
        self.value = value

    def text(self, lang: str | None = "en") -> str:
        v = self.value
        if isinstance(v, bool):
            return say("s_bool", value=str(v).lower()).text(lang)
        if isinstance(v, (int, float)) or type(v).__name__ == "Decimal":
            return say("s_number", value=v).text(lang)
        if isinstance(v, str):
            return say("s_text", value=v[:40]).text(lang)
        if isinstance(v, list):
            return say("s_a_list").text(lang)
        if isinstance(v, dict):
            return say("s_a_mapping").text(lang)
        if v is None:
            return say("s_nothing").text(lang)
        return repr(v)


class _Types:
    """What a value must be ("a number or a list"), in a language."""

    def __init__(self, types: list[str]):
        self.types = list(dict.fromkeys(types))

    def text(self, lang: str | None = "en") -> str:
        words = [say(f"s_t_{t}").text(lang) if t in TYPE_WORDS else t for t in self.types]
        return say("s_or").text(lang).join(list(dict.fromkeys(words)))


def _types(schema) -> list[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return t
    return [t] if t else []


def convert(error: ValidationError, source_map: SourceMap) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    at = source_map.at(path)
    v = error.validator
    if v == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        out = []
        for key in error.instance:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed[:15])
            hint_said = say("s_did_you_mean", name=close[0]) if close else say("s_allowed", names=", ".join(allowed[:15]))
            out.append(Diagnostic("E201", f"unknown key '{key}' in {where(path)}", source_map.at(path + (key,), key=True), hint,
                                  said=say("s_unknown_key", key=key, where=_Where(path)), hint_said=hint_said))
        return out
    if v == "required":
        missing = [r for r in error.validator_value if r not in (error.instance or {})]
        return [Diagnostic("E202", f"missing key '{m}' in {where(path)}", at,
                           said=say("s_missing_key", key=m, where=_Where(path))) for m in missing]
    if v == "type":
        want = " or ".join(TYPE_WORDS.get(t, t) for t in _types(error.schema))
        return [Diagnostic("E203", f"{where(path)} must be {want}, not {describe(error.instance)}", at,
                           said=say("s_type", where=_Where(path), want=_Types(_types(error.schema)),
                                    got=_Described(error.instance)))]
    if v == "enum":
        options = [str(o) for o in error.validator_value]
        close = difflib.get_close_matches(str(error.instance), options, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else ""
        return [Diagnostic("E204", f"{where(path)} is '{error.instance}', which is not one of: {', '.join(options)}", at, hint,
                           said=say("s_enum", where=_Where(path), value=error.instance, options=", ".join(options)),
                           hint_said=say("s_did_you_mean", name=close[0]) if close else None)]
    if v == "const":
        return [Diagnostic("E204", f"{where(path)} must be '{error.validator_value}'", at,
                           said=say("s_const", where=_Where(path), value=error.validator_value))]
    if v == "pattern" and "propertyNames" in error.relative_schema_path:
        v = "propertyNames"
    if v == "propertyNames":
        hint = "names use lower-case letters, digits and _"
        if path and path[-1] in ("label", "hint", "title", "description", "reason", "constraint_message",
                                 "required_message", "pattern_message", "operator"):
            hint = "a text with a comma inside {...} must be quoted: {en: \"a, b\"}"
            return [Diagnostic("E205", f"'{error.instance}' is not a language code in {where(path)}", at, hint,
                               said=say("s_not_language", value=error.instance, where=_Where(path)),
                               hint_said=say("s_quote_comma"))]
        return [Diagnostic("E205", f"'{error.instance}' is not a valid name in {where(path)}", at, hint,
                           said=say("s_not_name", value=error.instance, where=_Where(path)), hint_said=say("s_name_rule"))]
    if v == "pattern":
        hint = error.schema.get("description", "")
        return [Diagnostic("E205", f"{where(path)}: '{error.instance}' is not in the expected form", at, hint,
                           said=say("s_form", where=_Where(path), value=error.instance))]
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                 "exclusiveMaximum": "less than"}[v]
        key = {"minimum": "s_at_least", "maximum": "s_at_most", "exclusiveMinimum": "s_more_than",
               "exclusiveMaximum": "s_less_than"}[v]
        return [Diagnostic("E206", f"{where(path)} must be {words} {error.validator_value}, not {error.instance}", at,
                           said=say("s_bound", where=_Where(path), words=say(key), limit=error.validator_value,
                                    value=error.instance))]
    if v in ("minItems", "minProperties", "minLength"):
        return [Diagnostic("E207", f"{where(path)} must not be empty", at, said=say("s_empty", where=_Where(path)))]
    if v in ("maxItems", "maxLength"):
        return [Diagnostic("E207", f"{where(path)} is too long (at most {error.validator_value})", at,
                           said=say("s_too_long", where=_Where(path), limit=error.validator_value))]
    if v == "uniqueItems":
        return [Diagnostic("E208", f"{where(path)} lists the same value twice", at, said=say("s_twice", where=_Where(path)))]
    if v == "anyOf":
        sub = [e for e in (error.context or [])]
        if error.schema is not None and error.schema.get("anyOf") and all(
            "required" in s for s in error.schema["anyOf"]
        ):
            return [Diagnostic("E202", f"{where(path)} needs 'name' and 'type', or a 'preset'", at,
                               said=say("s_field_needs", where=_Where(path)))]
        if sub and all(e.validator == "type" and not e.relative_path for e in sub):
            wanted = []
            for e in sub:
                wanted += [TYPE_WORDS.get(t, t) for t in _types(e.schema)]
            wanted = list(dict.fromkeys(wanted))
            types = [t for e in sub for t in _types(e.schema)]
            return [Diagnostic("E203", f"{where(path)} must be {' or '.join(wanted)}, not {describe(error.instance)}", at,
                               said=say("s_type", where=_Where(path), want=_Types(types), got=_Described(error.instance)))]
        if sub:
            deepest = best_match(sub)
            # a branch that matched the value's type explains the problem best
            typed = [e for e in sub if e.validator not in ("type", "anyOf")]
            chosen = typed[0] if typed else deepest
            return convert(chosen, source_map)
    return [Diagnostic("E200", f"{where(path)}: {error.message}", at)]


def validate_structure(data, source_map: SourceMap) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    if not isinstance(data, dict):
        return [Diagnostic("E203", "a scheme definition must be a mapping with 'scheme:' and 'fields:' at the top",
                           source_map.at(()))]
    for error in _VALIDATOR.iter_errors(data):
        diagnostics.extend(convert(error, source_map))
    unique = {(d.code, d.message, d.location): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (d.location.line, d.location.col))
