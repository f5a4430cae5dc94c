"""Errors raised by the formula language.

`FormulaError` is a load-time problem (syntax, unknown name, type mismatch, a
construct outside the allow-list); it carries the position inside the formula so
the definition compiler can point at the exact column of the YAML file.
`FormulaRuntimeError` is an evaluation problem (a missing value, division by
zero); callers such as eligibility treat it as "not eligible" - fail closed.
"""

from __future__ import annotations

from . import runtime_messages  # noqa: F401 - registers the runtime keys
from .messages import say


class FormulaError(Exception):
    """`message` and `hint` are English; `said` and `hint_said` (formulas/messages.py `Said`,
    when given) say the same in any language: `error.text("fr")`, `error.hint_text("fr")`."""

    def __init__(self, code: str, message: str, *, line: int = 1, col: int = 0, hint: str = "",
                 said=None, hint_said=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line  # 1-based line inside the formula text
        self.col = col  # 0-based column (in characters) inside that line
        self.hint = hint
        self.said = said
        self.hint_said = hint_said if hint else None

    def text(self, lang: str | None = "en") -> str:
        return self.said.text(lang) if self.said is not None else self.message

    def hint_text(self, lang: str | None = "en") -> str:
        return self.hint_said.text(lang) if self.hint_said is not None else self.hint

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.code} {self.message}{hint}"


class FormulaRuntimeError(Exception):
    """A formula could not produce a value for this record.

    `message` is English; `said` (formulas/runtime_messages.py, when given) says the same in any
    language: `error.text("fr")`. Raise one with `runtime_error(key, **params)`. `as_param()` is
    what an explanation or a decision keeps in the database to say it again later."""

    def __init__(self, message: str, said=None):
        super().__init__(message)
        self.message = message
        self.said = said

    def text(self, lang: str | None = "en") -> str:
        return self.said.text(lang) if self.said is not None else self.message

    def as_param(self):
        """The error as JSON data: {"key", "params", "en"} (`messages.said_text` says it), or the
        English text when it has no key."""
        if self.said is None:
            return self.message
        return {**self.said.as_dict(), "en": self.message}


def runtime_error(key: str, /, **params) -> FormulaRuntimeError:
    """A `FormulaRuntimeError` from the runtime catalogue: its English is the `message`."""
    said = say(key, **params)
    return FormulaRuntimeError(said.text("en"), said)
