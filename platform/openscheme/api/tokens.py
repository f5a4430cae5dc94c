"""Bearer tokens for API clients: random, shown once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..storage.models import ApiToken, RoleAssignment, User

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session, user: User, *, days: int | None = 30, name: str = "") -> tuple[str, ApiToken]:
    """A new token for the user: returns the token text (never stored) and its row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = datetime.now() + timedelta(days=days) if days else None
    row = ApiToken(user_id=user.id, token_hash=token_hash(token), name=name[:64], expires_at=expires)
    session.add(row)
    session.flush()
    return token, row


def lookup(session, token: str) -> tuple[User, ApiToken] | None:
    """The active user a token belongs to, or None (unknown, expired, or the user is disabled)."""
    if not token or len(token) > 256:
        return None
    # one query for the token, its user, the user's roles and their places (every API request asks
    # for them: one round trip each was a sizeable part of a registration's time)
    row = session.execute(
        select(ApiToken).join(ApiToken.user).outerjoin(User.roles).outerjoin(RoleAssignment.location)
        .where(ApiToken.token_hash == token_hash(token))
        .options(contains_eager(ApiToken.user).contains_eager(User.roles).contains_eager(RoleAssignment.location))
    ).unique().scalar_one_or_none()
    if row is None or (row.expires_at is not None and row.expires_at <= datetime.now()):
        return None
    user = row.user
    if user is None or not user.active:
        return None
    return user, row


def revoke(session, row: ApiToken) -> None:
    session.delete(row)
    session.flush()
