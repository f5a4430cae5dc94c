"""Does the benefit apply to this patient? A benefit's `eligible_when` (np-ssf's accident cover:
only while the employee is at work) for the insuree's unit on the date of service, for a batch.

Enrolment checks it once; a claim comes months later, when the unit may no longer qualify, so
adjudication (R13) and verification check it again on the date of service. Only for a benefit that
declares one: the units' records are read with one query per chunk (household schemes: one more
for their members), whatever the number of claims, and the compiled formula then runs once per
unit and date (microseconds). Fail closed: a formula that cannot be evaluated does not apply.

The record is the registry's record as it was on the date of service: the registry keeps only the
current values, but every change is in the audit trail with the values before it, so a unit
changed after the date of service is taken as the first such change found it (its "before"). A
change counts from the day it was recorded on: a visit that day sees the new record. The changes are read with one query per chunk of units, only those recorded
since the earliest date of service of the batch (usually none).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..definitions.model import Benefit, Scheme
from ..formulas import FormulaRuntimeError
from ..registry.values import decoder
from ..storage.models import AuditLog, Household, Individual
from .adjudication import Applies


def load_values(session, scheme: Scheme, unit_keys) -> dict[tuple[str, int], dict]:
    """Typed record values of these units ({(unit type, id): values}; household schemes with their
    active members, as the formulas see them)."""
    from .loading import among, chunks, core  # loading calls this module

    ids = sorted({uid for _t, uid in unit_keys if uid})
    dialect = session.get_bind().dialect.name
    out: dict[tuple[str, int], dict] = {}
    if not scheme.is_household:
        decode = decoder(scheme.fields)
        for chunk in chunks(ids):
            for pid, data in core(session).execute(select(Individual.id, Individual.data)
                                                   .where(among(Individual.id, chunk, dialect))):
                out[("individual", pid)] = decode(dict(data or {}))
        return out
    decode, decode_member = decoder(scheme.fields), decoder(scheme.member_fields)
    for chunk in chunks(ids):
        for hid, data in core(session).execute(select(Household.id, Household.data)
                                               .where(among(Household.id, chunk, dialect))):
            out[("household", hid)] = decode(dict(data or {})) | {"members": []}
        rows = core(session).execute(select(Individual.household_id, Individual.id, Individual.roles, Individual.data)
                                     .where(among(Individual.household_id, chunk, dialect),
                                            Individual.active.is_(True))
                                     .order_by(Individual.household_id, Individual.position, Individual.id))
        for hid, pid, roles, data in rows:
            unit = out.get(("household", hid))
            if unit is not None:
                unit["members"].append(decode_member(dict(data or {})) | {"roles": list(roles or []), "_id": pid})
    return out


def load_changes(session, scheme: Scheme, unit_keys, since: date) -> dict[tuple[str, int], list[tuple[date, dict]]]:
    """The record updates of these units recorded after `since` ({unit: [(day recorded, typed values
    before the change)]}, oldest first), from the audit trail."""
    from .loading import among, chunks, core

    ids = sorted({uid for _t, uid in unit_keys if uid})
    entity = "household" if scheme.is_household else "individual"
    decode = decoder(scheme.fields)
    decode_member = decoder(scheme.member_fields) if scheme.is_household else None
    dialect = session.get_bind().dialect.name
    after = datetime.combine(since + timedelta(days=1), time.min)
    out: dict[tuple[str, int], list[tuple[date, dict]]] = {}
    for chunk in chunks(ids):
        rows = core(session).execute(select(AuditLog.entity_id, AuditLog.at, AuditLog.before).where(
            AuditLog.entity == entity, among(AuditLog.entity_id, chunk, dialect), AuditLog.action == "update",
            AuditLog.at >= after).order_by(AuditLog.entity_id, AuditLog.at, AuditLog.id))
        for unit_id, at, before in rows:
            before = before if isinstance(before, dict) else json.loads(before or "{}")
            values = decode(dict(before.get("data") or {}))
            if decode_member is not None:
                values["members"] = [decode_member(dict(m.get("data") or {})) | {"roles": list(m.get("roles") or [])}
                                     for m in before.get("members") or [] if m.get("active", True)]
            out.setdefault((entity, unit_id), []).append((at.date(), values))
    return out


def values_on(current: dict | None, changes: list[tuple[date, dict]] | None, day: date) -> dict | None:
    """The unit's values on `day`: before the first change recorded after that day, else the current ones."""
    for recorded, before in changes or ():
        if recorded > day:
            return before
    return current


def _plain(value):
    """A value as JSON keeps it in a stored reason (dates as text, amounts as exact text)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral_value() else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_plain(v)) for v in value)
    return value


def read_values(scheme: Scheme, benefit: Benefit, values: dict) -> tuple[tuple[str, object], ...]:
    """The unit's declared fields the condition reads, in the order of the definition."""
    names = benefit.eligible_when.names
    out = [(f.name, _plain(values.get(f.name))) for f in scheme.fields if f.name in names]
    if "members" in names:
        out.append(("members", len(values.get("members") or ())))
    return tuple(out)


def benefit_applies(scheme: Scheme, benefit: Benefit, values: dict | None, when: date) -> Applies:
    formula = benefit.eligible_when
    condition = " ".join(formula.text.split())
    if values is None:
        return Applies(False, condition, (), "the record cannot be read")
    try:
        ok = bool(formula.evaluate(values, when))
    except FormulaRuntimeError as exc:
        return Applies(False, condition, read_values(scheme, benefit, values), exc.message, exc.as_param())
    return Applies(True, condition) if ok else Applies(False, condition, read_values(scheme, benefit, values))
