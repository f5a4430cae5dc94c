"""Role-based permissions, scoped per scheme and per location.

A user holds role assignments (role, optional scheme, optional location or
facility). A permission is granted by a set of roles; an assignment limited to a
scheme or a location only grants it there: an enrolment officer of Kinondoni
district sees and edits only households whose location lies within Kinondoni.
Every route declares its permission with `@requires(...)`; the permission test
walks every route with every role.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user

ROLES = ("administrator", "implementer", "enrolment_officer", "facility_clerk", "claims_reviewer",
         "payment_officer", "analyst", "auditor")

STAFF = set(ROLES) - {"administrator"}

PERMISSIONS: dict[str, set[str]] = {
    "schemes.view": set(ROLES),
    "registry.view": {"enrolment_officer", "facility_clerk", "claims_reviewer", "payment_officer", "analyst",
                      "auditor", "implementer"},
    "registry.edit": {"enrolment_officer"},
    "registry.deactivate": {"enrolment_officer"},
    "registry.import": {"enrolment_officer", "implementer"},
    # the places inside a chosen one, for the cascading location selects of the registration forms
    "places.list": {"enrolment_officer"},
    "schemes.versions": {"implementer", "analyst", "auditor"},
    "reference.manage": set(),  # administrator only
    "users.manage": set(),  # administrator only
    "audit.view": {"auditor"},
    # analysis: formula workbench (an analyst proposes, an implementer approves), dashboards, reports
    "workbench.propose": {"analyst"},
    "workbench.approve": {"implementer"},
    "dashboard.view": {"analyst", "auditor", "implementer", "payment_officer", "claims_reviewer"},
    "reports.download": {"analyst", "auditor", "implementer", "payment_officer"},
    # targeting, payment cycles and vouchers (maker-checker is per person: the preparer cannot approve)
    "payments.view": {"payment_officer", "analyst", "auditor"},
    "targeting.run": {"payment_officer"},
    "targeting.approve": {"payment_officer"},
    "payments.prepare": {"payment_officer"},
    "payments.approve": {"payment_officer"},
    "vouchers.view": {"enrolment_officer", "facility_clerk", "payment_officer", "auditor"},
    "vouchers.issue": {"enrolment_officer"},
    "vouchers.redeem": {"facility_clerk"},
    "vouchers.reimburse": {"payment_officer"},
    # insurance: policies and contributions, verification at the facility, claims
    "policies.view": {"enrolment_officer", "payment_officer", "analyst", "auditor"},
    "policies.manage": {"enrolment_officer"},
    "contributions.record": {"enrolment_officer"},
    "coverage.verify": {"facility_clerk", "enrolment_officer", "claims_reviewer"},
    "claims.view": {"facility_clerk", "claims_reviewer", "payment_officer", "analyst", "auditor"},
    "claims.submit": {"facility_clerk"},
    "claims.review": {"claims_reviewer", "auditor"},
    "claims.batch": {"payment_officer"},
}


def roles_for(permission: str) -> set[str]:
    return PERMISSIONS[permission] | {"administrator"}


def assignments(user, permission: str, scheme_code: str | None = None):
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return []
    allowed = roles_for(permission)
    return [a for a in user.roles if a.role in allowed and (a.scheme_code is None or scheme_code is None
                                                             or a.scheme_code == scheme_code)]


def can(user, permission: str, scheme_code: str | None = None, location_path: str | None = None) -> bool:
    for a in assignments(user, permission, scheme_code):
        if location_path is None or a.location is None or location_path.startswith(a.location.path):
            return True
    return False


def scope_paths(user, permission: str, scheme_code: str) -> list[str]:
    """Location subtrees where the user holds the permission for the scheme ('/' = everywhere)."""
    paths = []
    for a in assignments(user, permission, scheme_code):
        paths.append(a.location.path if a.location is not None else "/")
    return ["/"] if "/" in paths else sorted(set(paths))


def home_place(session, user, permission: str, scheme):
    """Where a record of a scheme without location fields goes when this user registers it: their
    area (the first, if they have several), so that they can see it afterwards; None when not limited."""
    from ..registry.service import home_place as place_for

    return place_for(session, scheme, scope_paths(user, permission, scheme.code))


def schemes_visible(user, codes: list[str], permission: str = "schemes.view") -> list[str]:
    return [c for c in codes if assignments(user, permission, c)]


def requires(permission: str):
    """Route decorator: login required, and the permission somewhere (the view narrows by scheme/location)."""

    def decorate(view):
        view.permission = permission

        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from flask import redirect, request, url_for

                if request.path.startswith(("/api/", "/fhir/")):  # token APIs: 401, no redirect
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path))
            scheme = kwargs.get("scheme") or kwargs.get("code")
            if not can(current_user, permission, scheme):
                abort(403)
            g.permission = permission
            return view(*args, **kwargs)

        wrapper.permission = permission
        return wrapper

    return decorate


def require_location(permission: str, scheme_code: str, location_path: str) -> None:
    if not can(current_user, permission, scheme_code, location_path):
        abort(403)
