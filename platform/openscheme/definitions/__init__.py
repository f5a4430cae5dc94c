"""The definition compiler: YAML -> typed, validated Scheme. Pure: no Flask, no SQLAlchemy."""

from .compiler import CompileResult, compile_file, compile_text, load_scheme
from .diagnostics import DefinitionError, Diagnostic, Location
from .model import Scheme

__all__ = ["CompileResult", "DefinitionError", "Diagnostic", "Location", "Scheme", "compile_file",
           "compile_text", "load_scheme"]
