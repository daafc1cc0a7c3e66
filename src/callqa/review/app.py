"""The review app's factory: configuration, access control and the database per request."""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import sqlite3
from pathlib import Path

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..checks.registry import check_label
from ..reports.db import DB_FILENAME, open_db
from .exports import ReportRefresher
from .masking import mask_sensitive

SECRET_FILENAME = ".callqa-review-secret"  # beside the database; keeps sessions valid across restarts
PUBLIC_ENDPOINTS = {"review.login", "static"}  # reachable without the token (the stylesheet is not secret)


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
# Everything comes from this server: no CDN, no inline script; charts are inline SVG markup.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def resolve_db_path(target: str | Path) -> Path:
    """``callqa serve DIR``: DIR is a scored batch directory or the database file itself."""
    path = Path(target)
    if path.is_dir():
        path = path / DB_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"no results database at {path} (run `callqa score ... --out DIR` first)")
    return path.resolve()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _secret_key(db_path: Path) -> bytes:
    """A signing key kept beside the database (mode 0600), made on first start.

    A fresh random key per start would log every reviewer out on a restart;
    a fixed key in the code would let anyone forge a session.
    """
    key_file = db_path.parent / SECRET_FILENAME
    try:
        return bytes.fromhex(key_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key.hex())
    except OSError:
        pass  # a read-only batch directory: sessions just end with the process
    return key


def create_app(
    db_path: str | Path,
    *,
    token: str | None = None,
    reviewer: str | None = None,
    mask: bool = True,
    secret_key: bytes | None = None,
    audio_roots: tuple[str | Path, ...] = (),
) -> Flask:
    """Build the review app over a results database.

    ``token``: when set, every request must present it once (login form or
    ``?token=``); the session then remembers it. ``reviewer``: a fixed
    reviewer name for every decision (otherwise each reviewer types theirs).
    ``mask``: hide phone, ID-card and bank-card numbers in pages.
    ``audio_roots``: folders besides each batch's own input folder that
    recordings may be played from (review/recordings.py says what is served).
    """
    db_path = resolve_db_path(db_path)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or _secret_key(db_path),
        CALLQA_DB=db_path,
        CALLQA_DIR=db_path.parent,
        CALLQA_TOKEN=token or None,
        CALLQA_REVIEWER=(reviewer or "").strip() or None,
        CALLQA_MASK=mask,
        CALLQA_AUDIO_ROOTS=tuple(Path(r).resolve() for r in audio_roots),
        SESSION_COOKIE_NAME="callqa_review",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a review can take longer than an hour; the token is bound to the session
        MAX_CONTENT_LENGTH=64 * 1024,  # forms only
        # Without a token the app trusts whoever reaches it, so only on loopback names: a web page
        # that rebinds its own DNS name to 127.0.0.1 sends its name as Host and gets 400.
        TRUSTED_HOSTS=None if token else list(LOOPBACK_NAMES),
    )
    CSRFProtect(app)
    app.extensions["callqa_reports"] = ReportRefresher(db_path, db_path.parent)

    @app.errorhandler(CSRFError)
    def _csrf_failed(error):
        # Nothing was changed; say so plainly instead of a bare "Bad Request".
        return render_template("error.html", title="Request refused",
                               message=f"{error.description} Nothing was changed: reload the page and try again."), 400

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")  # no clicking decisions through a frame
        response.headers.setdefault("Referrer-Policy", "no-referrer")  # never leak ?token= onwards
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")  # scores change with every decision
        return response

    @app.before_request
    def _require_token():
        expected = app.config["CALLQA_TOKEN"]
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
            return redirect(url_for("review.login", next=request.full_path.rstrip("?")))
        return ("token required", 401)

    @app.teardown_appcontext
    def _close_db(_exc):
        conn = g.pop("conn", None)
        if conn is not None:
            conn.close()

    app.jinja_env.filters["mask"] = lambda text: mask_sensitive(text) if app.config["CALLQA_MASK"] else text
    app.jinja_env.filters["clock"] = clock
    app.jinja_env.filters["points"] = points
    app.jinja_env.globals["check_label"] = check_label

    from .views import bp

    app.register_blueprint(bp)
    return app


def token_tag(token: str) -> str:
    """What the session stores: a keyed hash, so the cookie never carries the token."""
    return hmac.new(b"callqa-review", token.encode(), "sha256").hexdigest()


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def get_db() -> sqlite3.Connection:
    """One connection per request (sqlite3 connections are not shared across threads)."""
    from flask import current_app

    if "conn" not in g:
        g.conn = open_db(current_app.config["CALLQA_DB"])
    return g.conn


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"
