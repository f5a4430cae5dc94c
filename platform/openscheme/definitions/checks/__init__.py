"""Semantic checks, one topic per module. Each takes the `Compiler` and reports
through `compiler.error(...)`; none raises."""
