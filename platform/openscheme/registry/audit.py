"""The audit trail: every change, with who, when, and the values before and after."""

from __future__ import annotations

from datetime import datetime

from ..storage.models import AuditLog


def record(session, *, user=None, action: str, entity: str, entity_id: int | None = None,
           scheme_code: str | None = None, before: dict | None = None, after: dict | None = None,
           detail: str = "", ip: str = "") -> AuditLog:
    entry = AuditLog(at=datetime.now(), user_id=getattr(user, "id", None), username=getattr(user, "username", "") or "",
                     action=action, entity=entity, entity_id=entity_id, scheme_code=scheme_code,
                     before=before, after=after, detail=detail, ip=ip)
    session.add(entry)
    return entry
