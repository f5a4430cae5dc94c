"""The definition compiler: YAML text -> a frozen, checked `Scheme`.

    result = compile_file("examples/tz_chf.yaml")
    result.diagnostics     # every problem, each with file:line:col
    result.scheme          # the compiled Scheme, or None when there are errors

The pipeline reads top to bottom: load (positions, duplicate keys) -> structure
(JSON Schema) -> names, fields and formulas -> rules, contributions, benefits,
payments -> workflows -> the scheme's own test cases. Each stage adds
diagnostics; a stage whose input is broken is skipped so one mistake does not
cascade into twenty.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..formulas import FormulaError, T, compile_formula
from ..formulas.messages import say
from ..formulas.types import article
from .benefits import (
    build_benefits,
    build_contributions,
    build_indicators,
    build_payments,
    build_rules,
)
from .checks.languages import check_languages
from .diagnostics import DefinitionError, Diagnostic, Location
from .fields import (
    DEFAULT_LOCATION_LEVELS,
    FieldBuilder,
    build_choices,
    build_constants,
    build_tables,
    parse_date,
    resolve_presets,
    text_of,
)
from .loader import SourceMap, load_yaml
from .messages import Technical
from .model import Members, Role, Scheme, TestCase
from .structure import validate_structure
from .workflows import build_workflows

MAX_FILE_BYTES = 5_000_000


@dataclass
class CompileResult:
    scheme: Scheme | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        return self.scheme is not None and not self.errors


class Compiler:
    def __init__(self, data: dict, source_map: SourceMap, file: str, text: str):
        self.data = data
        self.source_map = source_map
        self.file = file
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self.extra_choices: dict = {}
        self.all_raw_fields: list = []

    # ---- reporting --------------------------------------------------------------------

    def error(self, code: str, message: str, path, hint: str = "", *, key: bool = False,
              severity: str = "error", said=None, hint_said=None) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.source_map.at(path, key=key), hint, severity,
                                           said, hint_said))

    def formula(self, text, path: tuple, scope, expect: T | None, what: str):
        """Compile a formula found at `path`; report problems at their exact column."""
        try:
            compiled = compile_formula(str(text), scope)
        except FormulaError as exc:
            loc = self.source_map.formula_location(path, exc.line, exc.col)
            self.diagnostics.append(Diagnostic(exc.code, exc.message, loc, exc.hint, said=exc.said,
                                               hint_said=exc.hint_said))
            return None
        if expect is not None and compiled.result_type not in (expect, T.ANY):
            hint = "compare it, e.g. ... >= 18" if expect == T.BOOL else ""
            self.error("E506", f"{what} must give {article(expect)}, but this formula gives "
                               f"{article(compiled.result_type)}", path, hint,
                       said=say("wrong_result", what=what, want=str(expect), got=str(compiled.result_type)),
                       hint_said=say("hint_compare_18"))
            return None
        return compiled

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    # ---- pipeline ---------------------------------------------------------------------

    def compile(self) -> Scheme | None:
        data = self.data
        meta = data["scheme"]
        household = meta["unit"] in ("household", "group")
        if household and "members" not in data:
            self.error("E202", f"a {meta['unit']} scheme needs 'members:' (the roster and its fields)", ("scheme", "unit"),
                       said=say("n_unit_needs_members", unit=meta["unit"]))
        if not household and "members" in data:
            self.error("E327", "'members' applies to household and group schemes; this scheme's unit is individual",
                       ("members",), key=True, said=say("n_members_individual"))
            household = False
        if "roles" in data and not household:
            self.error("E327", "'roles' (of household members) apply to household and group schemes", ("roles",), key=True,
                       said=say("n_roles_individual"))
        period = meta.get("period") or {}
        if period.get("start") and period.get("end") and period["start"] > period["end"]:
            self.error("E326", "the scheme period ends before it starts", ("scheme", "period", "end"),
                       said=say("n_period_backwards"))
        for key in ("start", "end"):
            if period.get(key) and parse_date(period[key]) is None:
                self.error("E326", f"'{period[key]}' is not a valid date", ("scheme", "period", key),
                           said=say("n_not_valid_date", value=period[key]))

        choices = build_choices(self)
        constants = build_constants(self)
        tables = build_tables(self)
        unit_raw = resolve_presets(self, data["fields"], ("fields",))
        member_raw = resolve_presets(self, data["members"]["fields"], ("members", "fields")) if household and "members" in data else []
        from .fields import build_choice_list, builtin_presets

        for name, items in (self.extra_choices | builtin_presets()["choices"]).items():
            if name not in choices:  # built-in lists (sex, yes_no) may be named directly
                choices[name] = build_choice_list(self, items, ("choices",))
        self.all_raw_fields = unit_raw + member_raw
        builder = FieldBuilder(self, choices, constants, tables)
        unit_fields, member_fields = builder.build_all(unit_raw, member_raw, household)
        by_name = {f.name: f for f in unit_fields + member_fields}

        roles = {name: Role(name, text_of(r.get("label", name.replace("_", " "))), r.get("min", 0), r.get("max"))
                 for name, r in (data.get("roles") or {}).items()}
        for name, r in roles.items():
            if r.max is not None and r.min > r.max:
                self.error("E326", f"the role '{name}' has min greater than max", ("roles", name),
                           said=say("n_role_min_max", name=name))
        members = None
        if household and "members" in data:
            m = data["members"]
            members = Members(text_of(m.get("label")), m.get("min", 1), m.get("max", 50), tuple(member_fields))
            if members.min > members.max:
                self.error("E326", "members.min is greater than members.max", ("members", "min"),
                           said=say("n_members_min_max"))

        scope = builder.unit_scope
        kinds = tuple(meta["benefit_kinds"])
        rules = build_rules(self, scope)
        contributions = build_contributions(self, scope, by_name, household)
        benefits = build_benefits(self, scope, kinds, tables)
        payments = build_payments(self, roles, by_name, kinds)
        workflows = build_workflows(self, kinds)
        indicators = build_indicators(self, scope, by_name)
        tests = tuple(
            TestCase(t["name"], parse_date(t.get("as_of")), bool(t.get("renewal")), parse_date(t.get("enrolment_date")),
                     t["data"], t["expect"], ("tests", i))
            for i, t in enumerate(data.get("tests") or [])
        )
        if self.has_errors:
            return None
        return Scheme(
            code=meta["code"], version=str(meta["version"]), title=text_of(meta["title"]),
            description=text_of(meta.get("description")), currency=meta["currency"],
            languages=tuple(meta["languages"]), benefit_kinds=kinds, unit=meta["unit"],
            location_levels=tuple(meta.get("location_levels") or DEFAULT_LOCATION_LEVELS),
            fields=tuple(unit_fields), members=members, roles=tuple(roles.values()), choices=choices,
            constants=constants, tables=tables, eligibility=tuple(rules), contributions=contributions,
            benefits=tuple(benefits), payments=payments, workflows=workflows, tests=tests,
            file=self.file, text=self.text, content_hash=hashlib.sha256(self.text.encode("utf-8")).hexdigest(),
            country=meta.get("country"), operator=text_of(meta.get("operator")),
            period_start=parse_date(period.get("start")), period_end=parse_date(period.get("end")),
            period_months=period.get("months"), illustrative=bool(meta.get("illustrative")), source=meta.get("source"),
            indicators=tuple(indicators),
        )


def compile_text(text: str, file: str = "<definition>", *, run_tests: bool = True) -> CompileResult:
    """Compile definition text. Never raises: every problem is a diagnostic."""
    try:
        return _compile(text, file, run_tests)
    except Exception as exc:  # noqa: BLE001 - a bug of ours must still not show a traceback to implementers
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return CompileResult(None, [Diagnostic("E000", f"internal error while compiling ({detail})",
                                               Location(file, 1, 1), "please report this with the file")])


def _compile(text: str, file: str, run_tests: bool) -> CompileResult:
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        return CompileResult(None, [Diagnostic("E105", f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB",
                                               Location(file, 1, 1), said=say("l_too_large", mb=MAX_FILE_BYTES // 1_000_000))])
    data, source_map, diagnostics = load_yaml(text, file)
    if data is None or any(d.is_error for d in diagnostics):
        return CompileResult(None, diagnostics)
    structure = validate_structure(data, source_map)
    if structure:
        return CompileResult(None, diagnostics + structure)
    compiler = Compiler(data, source_map, file, text)
    scheme = compiler.compile()
    check_languages(compiler)
    diagnostics += compiler.diagnostics
    if scheme is not None and run_tests and scheme.tests:
        from ..evaluation.testcases import run_tests as run_embedded

        for outcome in run_embedded(scheme):
            for failure in outcome.failures:
                said = say("test_failure", name=outcome.case.name, failure=failure.said) if failure.said else None
                diagnostics.append(Diagnostic(failure.code, f"test '{outcome.case.name}': {failure.message}",
                                              source_map.at(failure.path), failure.hint, said=said,
                                              hint_said=failure.hint_said))
        if any(d.is_error for d in diagnostics):
            return CompileResult(scheme, diagnostics)
    diagnostics.sort(key=lambda d: (d.location.line, d.location.col))
    return CompileResult(scheme, diagnostics)


def compile_file(path: str | Path, *, run_tests: bool = True, display_name: str | None = None) -> CompileResult:
    p = Path(path)
    name = display_name or str(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        return CompileResult(None, [Diagnostic("E100", f"cannot read the file: {exc.strerror or exc}", Location(name, 1, 1),
                                               said=say("l_cannot_read", reason=Technical(str(exc.strerror or exc))))])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return CompileResult(None, [Diagnostic("E100", "the file is not UTF-8 text", Location(name, line, 1),
                                               "save it as UTF-8", said=say("l_not_utf8"), hint_said=say("l_hint_save_utf8"))])
    return compile_text(text, name, run_tests=run_tests)


def load_scheme(path: str | Path) -> Scheme:
    """Compile a file or raise DefinitionError with every diagnostic."""
    result = compile_file(path)
    if not result.ok:
        raise DefinitionError(result.errors or result.diagnostics)
    return result.scheme
