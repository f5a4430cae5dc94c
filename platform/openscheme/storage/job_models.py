"""Long runs (targeting, cycle preparation, imports) as jobs the browser can follow.

A job row says what runs (kind), for whom (created_by), how far it is (done of
total) and, once finished, its outcome (result JSON, or the error in message).
While it runs, `owner` names the process running it and `heartbeat_at` says when
it was last known alive, so a job left by a stopped process can be marked
interrupted; `rerun` is the form that started it, offered again then.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, JSONType


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_user_created", "created_by", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # targeting | cycle.prepare | import ...
    scheme_code: Mapped[str | None] = mapped_column(String(64))
    # queued | running | done | failed | interrupted (its process stopped; see jobs.gone)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict | None] = mapped_column(JSONType)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    owner: Mapped[str | None] = mapped_column(String(200))  # "host|pid|token|start" of the process running it (jobs.owner)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    rerun: Mapped[dict | None] = mapped_column(JSONType)  # {"endpoint", "values", "form"}: how to start it again
