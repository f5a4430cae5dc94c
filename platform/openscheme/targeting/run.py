"""An eligibility run over the whole registry of a scheme.

Each eligibility rule is compiled to SQL when it can be (`formulas.sql`, same
meaning as the interpreter, an error counts as "fails"); the run is then one
INSERT ... SELECT that writes, per unit, whether it is eligible and which rules
it failed. A rule the SQL compiler refuses is evaluated in Python over batches
of units afterwards - never skipped, never assumed true. The run records which
path each rule took. Nobody is enrolled until a second person approves the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, text

from ..definitions.model import Scheme
from ..formulas import FormulaRuntimeError
from ..formulas.sql import NotTranslatable, to_sql
from ..registry import audit
from ..storage.workflow_models import TargetingResult, TargetingRun
from .loading import iter_units, unit_table


class TargetingError(Exception):
    pass


@dataclass
class RulePlan:
    name: str
    sql: str | None
    params: dict
    why_python: str | None


def field_types(scheme: Scheme) -> dict[str, str]:
    return {f.name: f.type for f in scheme.fields + scheme.member_fields}


def plan_rules(scheme: Scheme, dialect: str) -> list[RulePlan]:
    plans = []
    for i, rule in enumerate(scheme.eligibility):
        try:
            compiled = to_sql(rule.formula, dialect, field_types(scheme), household=scheme.is_household,
                              param_prefix=f"r{i}_")
            plans.append(RulePlan(rule.name, compiled.sql, compiled.params, None))
        except NotTranslatable as exc:
            plans.append(RulePlan(rule.name, None, {}, str(exc)))
    return plans


def run_targeting(session, scheme: Scheme, version_id: int, *, as_of: date, user=None,
                  progress: Callable[[int], None] | None = None) -> TargetingRun:
    dialect = session.get_bind().dialect.name
    plans = plan_rules(scheme, dialect)
    run = TargetingRun(scheme_code=scheme.code, scheme_version_id=version_id, as_of=as_of, status="computed",
                       created_by=getattr(user, "id", None),
                       method={p.name: "sql" if p.sql else f"python ({p.why_python})" for p in plans})
    session.add(run)
    session.flush()
    table = unit_table(scheme)
    sql_plans = [p for p in plans if p.sql]
    params = {"code": scheme.code, "run": run.id, "as_of": as_of.isoformat()}
    for p in sql_plans:
        params |= p.params
    flags = [f"CASE WHEN ({p.sql}) THEN 1 ELSE 0 END AS r{i}" for i, p in enumerate(sql_plans)]
    where = "u.scheme_code = :code AND u.active = TRUE" + ("" if scheme.is_household else " AND u.household_id IS NULL")
    inner = f"SELECT u.id{''.join(', ' + f for f in flags)} FROM {table} u WHERE {where}"
    if sql_plans:
        passed = " + ".join(f"s.r{i}" for i in range(len(sql_plans)))
        eligible = f"({passed}) = {len(sql_plans)}"
        failed = " || ".join(f"CASE WHEN s.r{i} = 0 THEN '{p.name},' ELSE '' END" for i, p in enumerate(sql_plans))
        failed = f"rtrim({failed}, ',')"
    else:
        eligible, failed = "TRUE" if dialect == "postgresql" else "1", "''"
    insert = (f"INSERT INTO targeting_results (run_id, unit_id, eligible, failed_rules) "
              f"SELECT :run, s.id, {eligible}, {failed} FROM ({inner}) s")
    python_plans = [p for p in plans if not p.sql]
    if dialect == "postgresql" and not python_plans:
        # counted as they are written: a second pass over a million rows saved
        counts = dict(session.execute(text(
            f"WITH written AS ({insert} RETURNING eligible) SELECT eligible, count(*) FROM written GROUP BY eligible"),
            params).all())
    else:
        session.execute(text(insert), params)
        if python_plans:
            _python_rules(session, scheme, run, python_plans, as_of, progress)
        counts = dict(session.execute(select(TargetingResult.eligible, func.count()).where(
            TargetingResult.run_id == run.id).group_by(TargetingResult.eligible)).all())
    run.eligible_count = counts.get(True, 0)
    run.excluded_count = counts.get(False, 0)
    audit.record(session, user=user, action="targeting", entity="targeting_run", entity_id=run.id,
                 scheme_code=scheme.code, after={"eligible": run.eligible_count, "excluded": run.excluded_count,
                                                 "method": run.method, "as_of": as_of.isoformat()})
    session.flush()
    return run


def _python_rules(session, scheme: Scheme, run: TargetingRun, plans: list[RulePlan], as_of: date, progress) -> None:
    rules = [scheme.rule(p.name) for p in plans]
    done = 0
    for batch in iter_units(session, scheme):
        updates = []
        for unit_id, values in batch:
            failed = []
            for rule in rules:
                try:
                    ok = bool(rule.formula.evaluate(values, as_of))
                except FormulaRuntimeError:
                    ok = False  # fail closed
                if not ok:
                    failed.append(rule.name)
            if failed:
                updates.append({"run": run.id, "unit": unit_id, "more": ",".join(failed)})
        if updates:
            session.execute(text(
                "UPDATE targeting_results SET eligible = FALSE, failed_rules = CASE WHEN failed_rules = '' "
                "THEN :more ELSE failed_rules || ',' || :more END WHERE run_id = :run AND unit_id = :unit"), updates)
        done += len(batch)
        if progress:
            progress(done)


def approve_run(session, run: TargetingRun, user, *, scheme: Scheme) -> int:
    """A second person approves the run; eligible units not yet enrolled are enrolled (set-based)."""
    if run.status != "computed":
        raise TargetingError(f"this run is {run.status} already")
    if run.created_by is not None and getattr(user, "id", None) == run.created_by:
        raise TargetingError("the person who ran the targeting cannot approve it")
    column = "household_id" if scheme.is_household else "individual_id"
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # The planner may believe `enrolments` empty (a first approval, or statistics not yet
        # refreshed) and check NOT EXISTS with a nested loop that scans the table once per result
        # row - rows this statement inserts included: quadratic, 30 s for 80,000 households.
        # A hash or merge anti-join reads the existing enrolments once.
        nestloop = session.execute(text("SELECT current_setting('enable_nestloop')")).scalar()
        session.execute(text("SET LOCAL enable_nestloop = off"))
    result = session.execute(text(
        f"INSERT INTO enrolments (scheme_code, scheme_version_id, {column}, status, start_date, created_at) "
        f"SELECT CAST(:code AS VARCHAR(64)), :version, r.unit_id, 'active', :start, :now FROM targeting_results r "
        f"WHERE r.run_id = :run AND r.eligible = TRUE AND NOT EXISTS (SELECT 1 FROM enrolments e "
        f"WHERE e.scheme_code = :code AND e.{column} = r.unit_id AND e.status IN ('pending', 'active', 'suspended'))"),
        {"code": scheme.code, "version": run.scheme_version_id, "start": run.as_of, "run": run.id,
         "now": datetime.now()})
    if postgres:
        session.execute(text(f"SET LOCAL enable_nestloop = {'on' if nestloop == 'on' else 'off'}"))
    run.status = "approved"
    run.approved_by = getattr(user, "id", None)
    run.decided_at = datetime.now()
    audit.record(session, user=user, action="approve", entity="targeting_run", entity_id=run.id,
                 scheme_code=scheme.code, after={"enrolled": result.rowcount})
    session.flush()
    return result.rowcount


def reject_run(session, run: TargetingRun, user, reason: str = "") -> None:
    if run.status != "computed":
        raise TargetingError(f"this run is {run.status} already")
    run.status = "rejected"
    run.decided_at = datetime.now()
    audit.record(session, user=user, action="reject", entity="targeting_run", entity_id=run.id,
                 scheme_code=run.scheme_code, detail=reason)
