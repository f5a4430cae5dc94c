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

from dataclasses import dataclass


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

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.location}: {self.code} {self.message}{hint}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class DefinitionError(Exception):
    """Raised when a definition cannot be compiled; carries every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.location.file, d.location.line, d.location.col))
        super().__init__("\n".join(str(d) for d in self.diagnostics))
