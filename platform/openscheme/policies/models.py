"""The employers of a formal-sector (wage-based) scheme.

An employer is registered once per scheme (its registration number with the fund
is unique there); its employees are the scheme's individuals whose record names
that number in the employer field (`employer_number` by convention, see
`policies.formal`). Contributions carry the payer (employer or employee) and the
month they pay for, so a monthly schedule and its arrears are computed from the
contributions table alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from ..storage.models import Base


class Employer(Base):
    __tablename__ = "employers"
    __table_args__ = (UniqueConstraint("scheme_code", "code", name="uq_employers_scheme_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_code: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
