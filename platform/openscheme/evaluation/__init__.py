"""Evaluating a compiled scheme for one record: validation, eligibility, amounts, test cases.
Pure: no Flask, no SQLAlchemy."""

from .engine import Evaluation, evaluate
from .records import FieldError, ValidatedRecord, validate_record
from .testcases import run_tests

__all__ = ["Evaluation", "FieldError", "ValidatedRecord", "evaluate", "run_tests", "validate_record"]
