"""Who is enrolled in a scheme, in SQL, for every figure that counts it (dashboard, DHIS2 export).

A cash or voucher scheme enrols through targeting: a row of `enrolments`. An insurance scheme
enrols by taking out a policy: a row of `policies` (there is no enrolment row then). Either way
the unit counts while it is active or suspended; for a period, while its dates overlap it.
"""

from __future__ import annotations

from ..definitions.model import Scheme

STATES = "('active', 'suspended')"


def policy_unit_type(scheme: Scheme) -> str | None:
    """The `policies.unit_type` of the scheme's units when it enrols by a policy (an insurance
    scheme), else None (it enrols through targeting)."""
    if not any(b.kind == "insurance" for b in scheme.benefits):
        return None
    return "household" if scheme.is_household else "individual"


def enrolled_sql(scheme: Scheme, unit: str = "x", *, during_period: bool = False) -> str:
    """A condition on the unit row `unit` (households or individuals, with the bind parameter :code,
    and :start/:end with `during_period`): the unit is enrolled in the scheme."""
    column = "household_id" if scheme.is_household else "individual_id"
    targeting = (f"EXISTS (SELECT 1 FROM enrolments e WHERE e.scheme_code = :code AND e.{column} = {unit}.id "
                 f"AND e.status IN {STATES}")
    if during_period:
        targeting += " AND (e.start_date IS NULL OR e.start_date <= :end) AND (e.end_date IS NULL OR e.end_date >= :start)"
    targeting += ")"
    unit_type = policy_unit_type(scheme)
    if unit_type is None:
        return targeting
    policy = (f"EXISTS (SELECT 1 FROM policies pol WHERE pol.unit_type = '{unit_type}' AND pol.unit_id = {unit}.id "
              f"AND pol.scheme_code = :code AND pol.status IN {STATES}")
    if during_period:
        policy += (" AND (pol.start_date IS NULL OR pol.start_date <= :end) "
                   "AND (pol.expiry_date IS NULL OR pol.expiry_date >= :start)")
    return f"({targeting} OR {policy}))"
