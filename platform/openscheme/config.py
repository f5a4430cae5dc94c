"""Configuration: safe defaults, overridden by environment variables.

OPENSCHEME_DATABASE_URL   default sqlite:///instance/openscheme.db
OPENSCHEME_SECRET_KEY     session signing key (a random one per start when unset: fine for the demo)
OPENSCHEME_DEFINITIONS    folder of scheme definitions (default scheme_definitions/)
OPENSCHEME_SECURE_COOKIES "1" to send cookies over HTTPS only (set it in production)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def default_database_url(instance: Path | None = None) -> str:
    instance = instance or Path.cwd() / "instance"
    return f"sqlite:///{instance / 'openscheme.db'}"


def load_config(overrides: dict | None = None) -> dict:
    env = os.environ
    config = {
        "DATABASE_URL": env.get("OPENSCHEME_DATABASE_URL") or default_database_url(),
        "SECRET_KEY": env.get("OPENSCHEME_SECRET_KEY") or secrets.token_hex(32),
        "DEFINITIONS_DIR": env.get("OPENSCHEME_DEFINITIONS") or str(Path.cwd() / "scheme_definitions"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("OPENSCHEME_SECURE_COOKIES") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "PAGE_SIZE": 25,
        "LANGUAGES": ["en", "fr"],
        "BABEL_DEFAULT_LOCALE": "en",
        "FLASK_ADMIN_SWATCH": "cerulean",
        "MAX_CONTENT_LENGTH": 200 * 1024 * 1024,
    }
    config.update(overrides or {})
    return config
