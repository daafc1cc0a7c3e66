"""Who may use the app: the access token, sign-in and sign-out (as flaskr's auth.py).

Without a token the app trusts whoever reaches it, so it answers only on
loopback names (security.py). With one, every request must present it once:
the sign-in form, ``?token=`` on a link, or ``Authorization: Bearer``; the
session then remembers a keyed hash of it, never the token itself.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

__all__ = ["bp", "token_tag", "require_token", "PUBLIC_ENDPOINTS"]

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "static"}  # reachable without the token (the stylesheet is not secret)


def token_tag(token: str) -> str:
    """What the session stores: a keyed hash, so the cookie never carries the token."""
    return hmac.new(b"callqa-review", token.encode(), "sha256").hexdigest()


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_token():
    """before_request: let a request through only with the token, or a session that presented it."""
    expected = current_app.config["CALLQA_TOKEN"]
    if not expected or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if session.get("authed") and hmac.compare_digest(session.get("authed", ""), token_tag(expected)):
        return None
    offered = request.args.get("token") or _bearer(request.headers.get("Authorization", ""))
    if offered and hmac.compare_digest(offered.encode(), expected.encode()):
        session["authed"] = token_tag(expected)
        if request.method == "GET" and "token" in request.args:
            # Drop the token from the address bar and the browser history.
            args = {k: v for k, v in request.args.items() if k != "token"}
            return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))
        return None
    if request.method == "GET" and not request.path.startswith("/export/") and request.endpoint != "review.audio":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return ("token required", 401)


def _safe_target(target: str) -> str:
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return url_for("review.dashboard")  # only same-site paths: no open redirect
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    expected = current_app.config["CALLQA_TOKEN"]
    target = _safe_target(request.values.get("next", ""))
    if not expected:
        return redirect(target)
    if request.method == "POST":
        offered = request.form.get("token", "")
        if hmac.compare_digest(offered.encode(), expected.encode()):
            session["authed"] = token_tag(expected)
            return redirect(target)
        flash("Wrong token.", "error")
        return render_template("login.html", next=target), 401
    return render_template("login.html", next=target)


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
