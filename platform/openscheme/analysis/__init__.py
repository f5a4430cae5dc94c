"""Analysis: what changed between two versions of a scheme (`diff`), what a change would do to
the live registry (`impact`), the formula workbench's proposals, dashboards, reports and the
DHIS2 export.

`diff` is pure (compiled schemes in, sentences out); the others read the database set-based
(SQL aggregates, formulas as SQL where they translate, Python batches otherwise).
"""
