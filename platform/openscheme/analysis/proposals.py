"""Formula change proposals: an analyst proposes, an implementer approves (maker-checker).

A proposal holds the complete new definition text. Approving it compiles that text again
(with the scheme's own test cases), stores it as a new scheme version - the current one for
the code - and, when the scheme's file lives in the deployment's scheme_definitions/ and still
holds the text the proposal started from, writes it there too, so the next restart or
`openscheme load` keeps it. A proposal made on a version that is no longer current is refused:
approving it would silently undo the change approved in between.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from ..definitions import compile_text
from ..definitions.model import Scheme
from ..registry import audit
from ..storage.analysis_models import FormulaProposal
from ..storage.models import SchemeVersion
from ..storage.schemes import LoadReport
from . import workbench


class ProposalError(Exception):
    pass


def create(session, scheme: Scheme, version_id: int, key: str, formula: str, *, user=None, note: str = "",
           impact: dict | None = None) -> FormulaProposal:
    t = workbench.target(scheme, key)
    if t is None:
        raise ProposalError(f"there is no formula '{key}' in this scheme")
    checked = workbench.check(scheme, key, formula)
    if not checked.ok:
        raise ProposalError(f"{checked.code} {checked.message}")
    new_text, result = workbench.apply(scheme, key, formula)
    if not result.ok:
        raise ProposalError("; ".join(str(d) for d in result.errors) or "the new definition does not compile")
    if result.scheme.content_hash == scheme.content_hash:
        raise ProposalError("the formula is unchanged")
    proposal = FormulaProposal(scheme_code=scheme.code, base_version_id=version_id, target=key,
                               old_formula=t.text, new_formula=formula, yaml_text=new_text, note=note or "",
                               impact=impact, status="proposed", created_by=getattr(user, "id", None),
                               decision_note="")
    session.add(proposal)
    session.flush()
    audit.record(session, user=user, action="propose", entity="formula_proposal", entity_id=proposal.id,
                 scheme_code=scheme.code, before={"formula": t.text},
                 after={"target": key, "formula": formula}, detail=note or "")
    return proposal


def approve(session, catalog, proposal: FormulaProposal, user, *, definitions_dir: Path | None = None,
            note: str = "") -> int:
    """Store the proposal as the new current version; returns its version id."""
    if proposal.status != "proposed":
        raise ProposalError(f"this proposal is {proposal.status} already")
    if proposal.created_by is not None and proposal.created_by == getattr(user, "id", None):
        raise ProposalError("the person who proposed a change cannot approve it")
    current = catalog.version_id(proposal.scheme_code)
    if current != proposal.base_version_id:
        raise ProposalError("the scheme changed since this proposal was made; make the proposal again "
                            "on the current version")
    base = session.get(SchemeVersion, proposal.base_version_id)
    result = compile_text(proposal.yaml_text, base.file_name)
    if not result.ok:
        raise ProposalError("; ".join(str(d) for d in result.errors))
    written = None
    if definitions_dir is not None:
        path = Path(definitions_dir) / base.file_name
        try:
            if path.is_file() and path.read_text("utf-8") == base.yaml_text:
                path.write_text(proposal.yaml_text, "utf-8")
                written = str(path)
        except OSError:
            written = None
    session.commit()  # the catalog stores the version in its own transaction
    catalog._store(result.scheme, base.file_name, LoadReport())
    catalog.refresh()
    version_id = catalog.version_id(proposal.scheme_code)
    proposal.status = "approved"
    proposal.decided_by = getattr(user, "id", None)
    proposal.decided_at = datetime.now()
    proposal.decision_note = note or ""
    proposal.result_version_id = version_id
    proposal.written_file = written
    proposal.row_version = (proposal.row_version or 1) + 1
    audit.record(session, user=user, action="approve", entity="formula_proposal", entity_id=proposal.id,
                 scheme_code=proposal.scheme_code, after={"version_id": version_id, "file": written},
                 detail=note or "")
    session.flush()
    return version_id


def reject(session, proposal: FormulaProposal, user, note: str = "") -> None:
    if proposal.status != "proposed":
        raise ProposalError(f"this proposal is {proposal.status} already")
    proposal.status = "rejected"
    proposal.decided_by = getattr(user, "id", None)
    proposal.decided_at = datetime.now()
    proposal.decision_note = note or ""
    audit.record(session, user=user, action="reject", entity="formula_proposal", entity_id=proposal.id,
                 scheme_code=proposal.scheme_code, detail=note or "")
    session.flush()


def pending(session, scheme_code: str) -> list[FormulaProposal]:
    return list(session.scalars(select(FormulaProposal).where(
        FormulaProposal.scheme_code == scheme_code).order_by(FormulaProposal.id.desc()).limit(50)))
