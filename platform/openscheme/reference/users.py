"""Creating users and role assignments (used by the demo, the admin screens and tests)."""

from __future__ import annotations

from sqlalchemy import select

from ..storage.models import Location, RoleAssignment, User


def create_user(session, username: str, password: str, *, roles: list[tuple[str, str | None, str | None]] = (),
                full_name: str = "", language: str = "en", hash_method: str = "scrypt") -> User:
    """roles: (role, scheme_code or None, location code or None)."""
    from werkzeug.security import generate_password_hash

    user = User(username=username, full_name=full_name or username, language=language,
                password_hash=generate_password_hash(password, method=hash_method), active=True)
    session.add(user)
    session.flush()
    for role, scheme_code, location_code in roles:
        location_id = None
        if location_code:
            location_id = session.scalar(select(Location.id).where(Location.code == location_code))
            if location_id is None:
                raise ValueError(f"unknown location {location_code}")
        session.add(RoleAssignment(user_id=user.id, role=role, scheme_code=scheme_code, location_id=location_id))
    session.flush()
    return user
