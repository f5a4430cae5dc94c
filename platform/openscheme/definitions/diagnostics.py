"""Diagnostics: every problem found in a definition, with where and what.

A problem prints as `file.yaml:LINE:COL: CODE message (hint)`, lines and columns
1-based like every editor. The compiler collects them all instead of stopping at
the first, so an implementer fixes a file in one pass.
Codes are catalogued in docs/error-codes.md:
  E1xx YAML syntax and loading      E2xx structure (the JSON Schema)
  E3xx names and references          E4xx formula syntax and allow-list
  E5xx formula types                 E6xx workflows
  E7xx embedded test cases           E8xx records (field values)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    location: Location
    hint: str = ""
    severity: str = "error"  # or "warning"
    # what `message` and `hint` say (English), as data to say in another language (formulas/messages.py
    # `Said`); None when the problem is only said in English
    said: object = field(default=None, compare=False)
    hint_said: object = field(default=None, compare=False)

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location}: {self.code} {self.message}{hint}"

    def message_text(self, lang: str | None = "en") -> str:
        return self.said.text(lang) if self.said is not None else self.message

    def hint_text(self, lang: str | None = "en") -> str:
        if not self.hint:
            return ""
        return self.hint_said.text(lang) if self.hint_said is not None else self.hint

    def text(self, lang: str | None = "en") -> str:
        """`str(diagnostic)` in a language: `file.yaml:LINE:COL: CODE message (hint)`."""
        hint = self.hint_text(lang)
        return f"{self.location}: {self.code} {self.message_text(lang)}" + (f" ({hint})" if hint else "")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class DefinitionError(Exception):
    """Raised when a definition cannot be compiled; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.location.file, d.location.line, d.location.col))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
