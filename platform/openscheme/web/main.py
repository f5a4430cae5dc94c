"""The home page: the schemes this user works on."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from .permissions import requires, schemes_visible

bp = Blueprint("main", __name__)


@bp.route("/")
@requires("schemes.view")
def home():
    from .app import catalog

    schemes = [catalog().current(code) for code in schemes_visible(current_user, catalog().codes())]
    return render_template("home.html", schemes=[s for s in schemes if s is not None])


@bp.route("/healthz")
def health():
    return {"status": "ok"}
