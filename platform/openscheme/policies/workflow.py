"""Moving a policy or a claim through the scheme's declared workflow, audited.

Every step names a transition of the YAML workflow (`approve`, `expire`, `check`,
`valuate`...); it is taken only when the workflow allows it from the current
state for one of the acting user's roles (`system` for the automated steps), and
it leaves an audit entry with the state before and after.
"""

from __future__ import annotations

from datetime import datetime

from ..definitions.model import Scheme, Transition, Workflow
from ..registry import audit
from .messages import msg


class StepRefused(Exception):
    """`message` in English (logs); `text(lang)` says it in the reader's language."""

    def __init__(self, message: str, code: str = "not_allowed", key: str | None = None, params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.key, self.params = key, params or {}

    def text(self, lang: str | None = "en") -> str:
        return msg(self.key, lang, **self.params) if self.key else self.message


def roles_of(user, scheme_code: str) -> set[str]:
    """The roles a user acts with in a scheme; no user means the system itself."""
    if user is None:
        return {"system"}
    return {a.role for a in getattr(user, "roles", []) if a.scheme_code in (None, scheme_code)}


def allowed(wf: Workflow, state: str, transition: str, roles: set[str]) -> Transition | None:
    for role in sorted(roles):
        t = wf.can(state, transition, role)
        if t is not None:
            return t
    return None


def available(wf: Workflow, state: str, roles: set[str]) -> list[Transition]:
    """Transitions the roles may take from a state (for the buttons of a page)."""
    return [t for t in wf.transitions_from(state) if "administrator" in roles or set(t.roles) & roles]


def target_of(wf: Workflow, transition: str) -> str | None:
    return next((t.target for t in wf.transitions if t.name == transition), None)


def workflow(scheme: Scheme, name: str) -> Workflow:
    wf = scheme.workflows.get(name)
    if wf is None:
        params = {"code": scheme.code, "name": name}
        raise StepRefused(msg("no_workflow", "en", **params), "no_workflow", "no_workflow", params)
    return wf


def step(session, scheme: Scheme, name: str, obj, transition: str, *, user=None, entity: str,
         system: bool = False, detail: str = "", after: dict | None = None, ip: str = "") -> Transition:
    """Take `transition` on `obj` (which has .status and .id) or raise StepRefused."""
    wf = workflow(scheme, name)
    roles = {"system"} if system else roles_of(user, scheme.code)
    t = allowed(wf, obj.status, transition, roles)
    if t is None:
        declared = next((x for x in wf.transitions if x.name == transition), None)
        said = dict(declared.label.values) if declared is not None else {}
        params = {"transition": {**said, "en": transition, "*": transition}, "status": obj.status}
        raise StepRefused(msg("step_refused", "en", **params), key="step_refused", params=params)
    before = obj.status
    obj.status = t.target
    if hasattr(obj, "updated_at"):
        obj.updated_at = datetime.now()
    session.flush()
    audit.record(session, user=user, action=transition, entity=entity, entity_id=obj.id, scheme_code=scheme.code,
                 before={"status": before}, after={"status": t.target, **(after or {})}, detail=detail, ip=ip)
    return t
