"""Texts given per language must be given in every language the scheme declares.

A scheme declares `languages: [en, fr]`; a label written `{en: Age}` then shows up in English on
a French officer's form, and nobody notices until the field visit. Each text per language that
misses one of the declared languages gets a warning at its line (W352) - not an error: the
scheme still works, the missing language falls back to another one. A text written as plain
text (`label: Age`) is the same in every language and is not reported.

The texts are the places the JSON Schema types as TEXT_I18N: the schema is walked alongside
the data by jsonschema itself, through one extra keyword, so no second list of "where texts
are" can drift from the schema.
"""

from __future__ import annotations

import copy
from functools import cache

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from .. import schema as definition_schema

KEYWORD = "x-text-per-language"


def _mark(node, target):
    """A copy of the schema where every TEXT_I18N (by identity) carries the extra keyword."""
    if node is target:
        return {**copy.deepcopy(node), KEYWORD: True}
    if isinstance(node, dict):
        return {k: _mark(v, target) for k, v in node.items()}
    if isinstance(node, list):
        return [_mark(v, target) for v in node]
    return node


@cache
def _validator_class(languages: tuple[str, ...]):
    """A validator whose extra keyword reports, for a text given per language, the declared
    languages it lacks (validators are immutable: the languages are bound here)."""

    def missing_languages(_validator, _value, instance, _schema):
        if isinstance(instance, dict) and instance:
            missing = [lang for lang in languages if lang not in instance]
            if missing:
                yield ValidationError(", ".join(missing))

    return validators.extend(Draft202012Validator, {KEYWORD: missing_languages})


@cache
def _marked_schema():
    return _mark(definition_schema.SCHEMA, definition_schema.TEXT_I18N)


def _ours(errors):
    """The extra keyword's errors, also those inside anyOf/oneOf branches (their `context`)."""
    for error in errors:
        if error.validator == KEYWORD:
            yield error
        yield from _ours(error.context or ())


def check_languages(c) -> None:
    declared = tuple((c.data.get("scheme") or {}).get("languages") or ())
    if len(declared) < 2:
        return
    checker = _validator_class(declared)(_marked_schema())
    for error in _ours(checker.iter_errors(c.data)):
        path = tuple(error.absolute_path)
        c.error("W352", f"this text has no {error.message} version, though the scheme declares "
                        f"languages {', '.join(declared)}", path,
                "add the missing language(s), or write the text once without languages if it is the same in all",
                severity="warning")
