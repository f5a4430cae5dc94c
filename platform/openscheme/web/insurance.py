"""What the insurance pages (policies, verification, claims) share: the scheme, the user's facilities,
reason texts and amounts for display."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _p
from flask_login import current_user
from sqlalchemy import select

from .. import numformat
from ..claims import reasons
from ..reference.facilities import serving_ids
from ..storage.models import Facility, Location
from .i18n import current_language
from .permissions import roles_for

# the state of a claim, of a claim's line or of a policy: "la demande / la ligne / la police" are feminine
# in French, so their words are kept apart (msgctxt) from the same English words elsewhere
STATUS_LABELS = {
    "accepted": _p("claim or policy", "accepted"), "adjusted": _p("claim or policy", "adjusted"),
    "rejected": _p("claim or policy", "rejected"), "entered": _p("claim or policy", "entered"),
    "submitted": _p("claim or policy", "submitted"), "checked": _p("claim or policy", "checked"),
    "review": _p("claim or policy", "in review"), "medical_audit": _p("claim or policy", "medical audit"),
    "valuated": _p("claim or policy", "valued"), "batched": _p("claim or policy", "in a payment batch"),
    "paid": _p("claim or policy", "paid"), "pending": _p("claim or policy", "pending"),
    "active": _p("claim or policy", "active"), "suspended": _p("claim or policy", "suspended"),
    "expired": _p("claim or policy", "expired"), "cancelled": _p("claim or policy", "cancelled"),
    "open": _p("claim or policy", "open"),
}
# a payment batch ("le lot": masculine)
BATCH_STATUS_LABELS = {"open": _p("payment batch", "open"), "paid": _p("payment batch", "paid")}

# the claims workflow in a claim's history and on its buttons: a scheme that declares its workflow
# labels the steps in its YAML; the default workflow's steps (named, not labelled) and the services'
# own actions are said here (what happened to the claim: "saisie", "soumise")
CLAIM_ACTIONS = {
    "create": _p("claim or policy", "entered"), "submit": _p("claim or policy", "submitted"),
    "adjudicate": _l("decided automatically"), "check": _p("claim or policy", "checked"),
    "reject": _p("claim or policy", "rejected"), "select_for_review": _l("selected for review"),
    "valuate": _p("claim or policy", "valued"), "adjust": _l("line changed"), "feedback": _l("feedback"),
    "batch": _p("claim or policy", "batched"), "pay": _p("claim or policy", "paid"),
}
STEP_BUTTONS = {"submit": _l("Submit"), "reject": _l("Reject"), "select_for_review": _l("Select for review"),
                "valuate": _l("Valuate"),
                # the enrolment workflow's steps on a policy's page
                "approve": _l("Approve"), "suspend": _l("Suspend"), "reinstate": _l("Reinstate"), "cancel": _l("Cancel")}


def session():
    from .app import db_session

    return db_session()


def catalog():
    from .app import catalog as _catalog

    return _catalog()


def insurance_scheme(code: str):
    """The current scheme with this code, if it has an insurance benefit (404 otherwise)."""
    scheme = catalog().current(code)
    if scheme is None:
        abort(404)
    if not any(b.kind == "insurance" for b in scheme.benefits):
        abort(404, description=_("This scheme has no insurance benefit."))
    return scheme


def insurance_schemes(permission: str) -> list:
    from .permissions import schemes_visible

    out = []
    for code in schemes_visible(current_user, catalog().codes(), permission):
        scheme = catalog().current(code)
        if scheme is not None and any(b.kind == "insurance" for b in scheme.benefits):
            out.append(scheme)
    return out


def facility_allowed(permission: str, scheme_code: str, facility: Facility) -> bool:
    """The user holds the permission for this scheme at this facility (its own assignment, or its place)."""
    allowed = roles_for(permission)
    for a in getattr(current_user, "roles", []):
        if a.role not in allowed or a.scheme_code not in (None, scheme_code):
            continue
        if a.facility_id is not None and a.facility_id != facility.id:
            continue
        if a.location is not None:
            path = facility.location.path if facility.location is not None else ""
            if not path.startswith(a.location.path):
                continue
        return True
    return False


def facilities_for(permission: str, scheme_code: str) -> list[Facility]:
    """Active facilities where the user holds the permission (a clerk: their own)."""
    rows = session().scalars(select(Facility).outerjoin(Location, Location.id == Facility.location_id)
                             .where(Facility.active.is_(True)).order_by(Facility.name)).all()
    return [f for f in rows if facility_allowed(permission, scheme_code, f)]


def serving_facilities_for(permission: str, scheme, kind: str = "insurance") -> list[Facility]:
    """The facilities where the user holds the permission that can serve the scheme (its country, a price
    list with its services: `reference.facilities`): what the claim and redemption forms offer."""
    serving = serving_ids(session(), scheme, kind)
    return [f for f in facilities_for(permission, scheme.code) if f.id in serving]


def allowed_facility_ids(permission: str, scheme_code: str) -> set[int] | None:
    """None when the user is not limited to some facilities or places (every facility)."""
    allowed = roles_for(permission)
    for a in getattr(current_user, "roles", []):
        if a.role in allowed and a.scheme_code in (None, scheme_code) and a.facility_id is None and a.location is None:
            return None
    return {f.id for f in facilities_for(permission, scheme_code)}


def reason_text(stored, scheme=None) -> str:
    """A decision's reason in the interface language (`claims.reasons`: title and detail), with the
    labels of the scheme's fields and choices when a condition's values are shown."""
    return reasons.reason_text(stored, current_language(), reasons.field_labels(scheme) if scheme else None)


def _declared(t) -> bool:
    """A transition labelled in the YAML (not only named)."""
    return any(text != t.name.replace("_", " ") for text in t.label.values.values())


def step_label(t) -> str:
    """A workflow step's button: its label from the YAML, else ours."""
    if not _declared(t) and t.name in STEP_BUTTONS:
        return str(STEP_BUTTONS[t.name])
    return text_of(t.label)


def action_label(action: str, workflow=None) -> str:
    """An entry of a claim's history: a step declared in the YAML by its label, else ours."""
    t = next((t for t in workflow.transitions if t.name == action), None) if workflow is not None else None
    if t is not None and _declared(t):
        return text_of(t.label)
    return str(CLAIM_ACTIONS.get(action, action.replace("_", " ")))


def amount(value) -> str:
    """An amount as the page's language writes it: 1,234.50 / 1 234,50 (none of the decimals when whole)."""
    if value is None:
        return ""
    return numformat.money(Decimal(value), current_language())


def label(status: str, of: str = "claim") -> str:
    """A state in words: of a claim, a claim's line or a policy; `of="batch"`: of a payment batch."""
    labels = BATCH_STATUS_LABELS if of == "batch" else STATUS_LABELS
    return str(labels.get(status, status.replace("_", " ")))


def text_of(value) -> str:
    """Scheme text (a Text object) in the interface language."""
    get = getattr(value, "get", None)
    return get(current_language()) if get else str(value or "")


def render(template: str, http_status: int = 200, **context):
    context.setdefault("lang", current_language())
    return render_template(template, amount=amount, status_label=label, reason_text=reason_text, text_of=text_of,
                           step_label=step_label, action_label=action_label,
                           **context), http_status


def int_arg(name: str, default: int, low: int = 1, high: int = 1_000_000) -> int:
    try:
        return max(low, min(int(request.args.get(name, default)), high))
    except (TypeError, ValueError):
        return default
