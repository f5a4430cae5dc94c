"""Login and logout: hashed passwords, throttled failures, audited.

Passwords are hashed with werkzeug's scrypt. After LOGIN_MAX_FAILURES failed
attempts for a username within LOGIN_LOCK_MINUTES, further attempts are refused
without checking the password (the error does not say whether the user exists).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..registry import audit
from ..storage.models import LoginAttempt, User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"


def hash_password(password: str, method: str | None = None) -> str:
    """scrypt by default; tests may configure a cheaper method (PASSWORD_HASH_METHOD)."""
    if method is None:
        try:
            method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        except RuntimeError:  # outside an application context
            method = "scrypt"
    return generate_password_hash(password, method=method)


@login_manager.user_loader
def load_user(user_id: str):
    from .app import db_session

    try:
        return db_session().get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def recent_failures(s, username: str) -> int:
    since = datetime.now() - timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    return s.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.at >= since, LoginAttempt.success.is_(False))) or 0


def safe_next(target: str | None) -> str:
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("main.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    from .app import db_session

    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    error = None
    status = 200
    if request.method == "POST":
        s = db_session()
        username = (request.form.get("username") or "").strip()[:64]
        password = request.form.get("password") or ""
        ip = request.remote_addr or ""
        if recent_failures(s, username) >= current_app.config["LOGIN_MAX_FAILURES"]:
            error = _("Too many failed attempts. Try again in %(minutes)s minutes.",
                      minutes=current_app.config["LOGIN_LOCK_MINUTES"])
            status = 429
        else:
            user = s.scalar(select(User).where(User.username == username))
            ok = user is not None and user.active and check_password_hash(user.password_hash, password)
            s.add(LoginAttempt(username=username, ip=ip, at=datetime.now(), success=ok))
            if ok:
                user.last_login_at = datetime.now()
                audit.record(s, user=user, action="login", entity="user", entity_id=user.id, ip=ip)
                s.commit()
                session.clear()
                login_user(user)
                session["lang"] = user.language
                return redirect(safe_next(request.args.get("next")))
            s.commit()
            error = _("Wrong username or password.")
            status = 401
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    lang = request.form.get("lang", "en")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))
