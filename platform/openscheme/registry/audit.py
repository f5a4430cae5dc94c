"""The audit trail: every change, with who, when, and the values before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from ..storage.models import AuditLog

_INSERT = insert(AuditLog)


def record(session, *, user=None, action: str, entity: str, entity_id: int | None = None,
           scheme_code: str | None = None, before: dict | None = None, after: dict | None = None,
           detail: str = "", ip: str = "") -> None:
    """Write the entry now, in the session's transaction (it goes or stays with the change it
    describes). A Core INSERT rather than an ORM object: every audited request writes one, and the
    unit of work's flush of it was a noticeable share of an API registration's time."""
    session.execute(_INSERT, {"at": datetime.now(), "user_id": getattr(user, "id", None),
                              "username": getattr(user, "username", "") or "", "action": action, "entity": entity,
                              "entity_id": entity_id, "scheme_code": scheme_code, "before": before, "after": after,
                              "detail": detail, "ip": ip})
