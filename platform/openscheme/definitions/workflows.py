"""Workflows: the states and transitions of enrolment, claims, payments and
vouchers, with the staff role allowed to take each step.

A simple scheme declares none and gets the defaults below; a scheme that needs
another flow declares it, and the checks make sure every state can be reached
and every role exists.
"""

from __future__ import annotations

from ..formulas.checker import suggest, suggestion
from ..formulas.messages import say
from . import messages as _messages  # noqa: F401 - registers the w_* messages with `say`
from .fields import text_of
from .model import Transition, Workflow
from .schema import STAFF_ROLES

ROLES = tuple(STAFF_ROLES) + ("system",)

DEFAULTS = {
    "enrolment": {
        "initial": "pending",
        "states": ["pending", "active", "suspended", "expired", "rejected", "cancelled"],
        "final": ["rejected", "cancelled"],
        "transitions": [
            {"name": "approve", "from": "pending", "to": "active", "roles": ["enrolment_officer"]},
            {"name": "reject", "from": "pending", "to": "rejected", "roles": ["enrolment_officer"]},
            {"name": "suspend", "from": "active", "to": "suspended", "roles": ["enrolment_officer"]},
            {"name": "reinstate", "from": "suspended", "to": "active", "roles": ["enrolment_officer"]},
            {"name": "expire", "from": ["active", "suspended"], "to": "expired", "roles": ["system"]},
            {"name": "renew", "from": "expired", "to": "active", "roles": ["enrolment_officer"]},
            {"name": "cancel", "from": ["pending", "active", "suspended"], "to": "cancelled",
             "roles": ["enrolment_officer"]},
        ],
    },
    "claims": {
        "initial": "entered",
        "states": ["entered", "submitted", "checked", "rejected", "review", "valuated", "batched", "paid"],
        "final": ["rejected", "paid"],
        "transitions": [
            {"name": "submit", "from": "entered", "to": "submitted", "roles": ["facility_clerk"]},
            {"name": "check", "from": "submitted", "to": "checked", "roles": ["system"]},
            {"name": "reject", "from": ["submitted", "checked", "review"], "to": "rejected",
             "roles": ["system", "claims_reviewer"]},
            {"name": "select_for_review", "from": "checked", "to": "review", "roles": ["system", "claims_reviewer"]},
            {"name": "valuate", "from": ["checked", "review"], "to": "valuated", "roles": ["system", "claims_reviewer"]},
            {"name": "batch", "from": "valuated", "to": "batched", "roles": ["payment_officer"]},
            {"name": "pay", "from": "batched", "to": "paid", "roles": ["payment_officer"]},
        ],
    },
    "payments": {
        "initial": "draft",
        "states": ["draft", "prepared", "approved", "sent", "reconciled", "cancelled"],
        "final": ["reconciled", "cancelled"],
        "transitions": [
            {"name": "prepare", "from": "draft", "to": "prepared", "roles": ["payment_officer"]},
            {"name": "approve", "from": "prepared", "to": "approved", "roles": ["payment_officer"]},
            {"name": "send", "from": "approved", "to": "sent", "roles": ["payment_officer"]},
            {"name": "reconcile", "from": "sent", "to": "reconciled", "roles": ["payment_officer"]},
            {"name": "cancel", "from": ["draft", "prepared"], "to": "cancelled", "roles": ["payment_officer"]},
        ],
    },
    "vouchers": {
        "initial": "issued",
        "states": ["issued", "redeemed", "reimbursed", "expired", "cancelled"],
        "final": ["reimbursed", "expired", "cancelled"],
        "transitions": [
            {"name": "redeem", "from": "issued", "to": "redeemed", "roles": ["facility_clerk"]},
            {"name": "reimburse", "from": "redeemed", "to": "reimbursed", "roles": ["payment_officer"]},
            {"name": "expire", "from": "issued", "to": "expired", "roles": ["system"]},
            {"name": "cancel", "from": "issued", "to": "cancelled", "roles": ["enrolment_officer"]},
        ],
    },
}

NEEDED = {"enrolment": None, "claims": "insurance", "payments": "cash", "vouchers": "voucher"}


def build_workflows(compiler, kinds: tuple[str, ...]) -> dict[str, Workflow]:
    declared = compiler.data.get("workflows") or {}
    out = {}
    for name, needs in NEEDED.items():
        if name in declared:
            out[name] = build_one(compiler, name, declared[name], ("workflows", name), True)
        elif needs is None or needs in kinds:
            out[name] = build_one(compiler, name, DEFAULTS[name], ("workflows", name), False)
    return out


def build_one(compiler, name: str, spec: dict, path: tuple, declared: bool) -> Workflow:
    states = list(spec["states"])
    final = list(spec.get("final") or [])
    c = compiler

    def known(state, where):
        if state not in states:
            c.error("E602", f"unknown state '{state}' in the {name} workflow", where,
                    suggest(state, states) or "states: " + ", ".join(states),
                    said=say("w_unknown_state", state=state, workflow=name),
                    hint_said=suggestion(state, states) or say("w_hint_states", names=", ".join(states)))
            return False
        return True

    initial_known = known(spec["initial"], path + ("initial",))
    for i, s in enumerate(final):
        known(s, path + ("final", i))
    transitions = []
    seen = set()
    for i, t in enumerate(spec["transitions"]):
        tpath = path + ("transitions", i)
        sources = t["from"]
        sources = ("*",) if sources == "*" else tuple([sources] if isinstance(sources, str) else sources)
        for j, s in enumerate(sources):
            if s != "*":
                known(s, tpath + ("from",) if isinstance(t["from"], str) else tpath + ("from", j))
                if s in final:
                    c.error("E607", f"the transition '{t['name']}' leaves the final state '{s}'", tpath + ("from",),
                            "remove it from 'final' or drop the transition",
                            said=say("w_leaves_final", name=t["name"], state=s), hint_said=say("w_hint_final_or_drop"))
                key = (s, t["name"])
                if key in seen:
                    c.error("E605", f"two transitions named '{t['name']}' leave the state '{s}'", tpath + ("name",),
                            said=say("w_two_transitions", name=t["name"], state=s))
                seen.add(key)
        known(t["to"], tpath + ("to",))
        for j, role in enumerate(t["roles"]):
            if role not in ROLES:
                c.error("E603", f"unknown role '{role}'", tpath + ("roles", j),
                        suggest(role, ROLES) or "roles: " + ", ".join(ROLES), said=say("w_unknown_role", role=role),
                        hint_said=suggestion(role, ROLES) or say("w_hint_roles", names=", ".join(ROLES)))
        transitions.append(Transition(t["name"], text_of(t.get("label", t["name"].replace("_", " "))),
                                      sources, t["to"], tuple(t["roles"])))
    wf = Workflow(name, spec["initial"], tuple(states), tuple(final), tuple(transitions), declared)
    if not initial_known:
        return wf  # reachability from an unknown state would only repeat the same mistake
    # reachability from the initial state
    reached = {wf.initial}
    frontier = [wf.initial]
    while frontier:
        state = frontier.pop()
        for t in wf.transitions_from(state):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    for i, s in enumerate(states):
        if s not in reached and s in states:
            c.error("E604", f"the state '{s}' of the {name} workflow can never be reached from '{wf.initial}'",
                    path + ("states", i), "add a transition to it or remove it",
                    said=say("w_unreachable", state=s, workflow=name, initial=wf.initial), hint_said=say("w_hint_unreachable"))
        elif s not in final and not wf.transitions_from(s):
            c.error("W606", f"the state '{s}' of the {name} workflow has no way out and is not final",
                    path + ("states", i), "list it under 'final'", severity="warning",
                    said=say("w_dead_end", state=s, workflow=name), hint_said=say("w_hint_list_final"))
    return wf
