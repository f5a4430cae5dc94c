"""The formula language: Python expression syntax, a whitelisted vocabulary, static
types, a simpleeval reference interpreter with traces, and a compiled fast path.

Pure: imports neither Flask nor SQLAlchemy.
"""

from .checker import Scope
from .errors import FormulaError, FormulaRuntimeError
from .explain import show
from .formula import Explanation, Formula, compile_formula
from .functions import SIGNATURES
from .types import T, type_of_value

__all__ = [
    "Explanation", "Formula", "FormulaError", "FormulaRuntimeError", "SIGNATURES", "Scope", "T",
    "compile_formula", "show", "type_of_value",
]
