"""Tables of the analyst workbench: formula change proposals (maker-checker).

An analyst's proposal holds the whole new definition text (the old text with one formula
replaced) and the impact measured when it was made; an implementer other than its author
approves it, and only then is it stored as a new scheme version. Users may be deleted: the
proposal keeps its history with the user columns set to NULL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, JSONType


class FormulaProposal(Base):
    __tablename__ = "formula_proposals"
    __table_args__ = (Index("ix_formula_proposals_scheme_status", "scheme_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    base_version_id: Mapped[int] = mapped_column(ForeignKey("scheme_versions.id"))
    target: Mapped[str] = mapped_column(String(200))  # eligibility.<rule> | benefits.<code>.amount | ...
    old_formula: Mapped[str] = mapped_column(Text)
    new_formula: Mapped[str] = mapped_column(Text)
    yaml_text: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[dict | None] = mapped_column(JSONType)  # ImpactReport.as_dict() when proposed
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | approved | rejected
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    result_version_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_versions.id"))
    written_file: Mapped[str | None] = mapped_column(String(500))
    row_version: Mapped[int] = mapped_column(Integer, default=1)
