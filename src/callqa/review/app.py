"""The review app's factory: configuration, then the pieces wired in (as flaskr's __init__.py).

    db.py        the results database per request
    auth.py      the access token, sign-in and sign-out
    security.py  CSRF, response headers
    filters.py   template filters and globals
    i18n.py      Chinese first: words, finding details, local times
    views.py     the dashboard, a call's page, its audio and decisions
    queue.py     the review queue (sort, filters, pages; the SQL in queries.py)
    agents.py    an agent's page: trends over batches and their calls
    appeals.py   disputes of confirmed findings and their rulings
    calibration.py  samples for human scoring and the agreement report
    downloads.py the CSV reports, served
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from flask import Flask

from ..errors import UsageError
from ..reports.db import DB_FILENAME, is_writable
from . import agents, appeals, auth, calibration, db, downloads, filters, queue, security, views
from .i18n import timezone_for
from .exports import ReportRefresher

__all__ = ["create_app", "is_loopback", "resolve_db_path", "SECRET_FILENAME"]

SECRET_FILENAME = ".callqa-review-secret"  # beside the database; keeps sessions valid across restarts
# An access token shorter than this is refused: anyone who can reach the app could guess it.
MIN_TOKEN_LENGTH = 16


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
    timezone: str | None = None,
    public_url: str = "",
) -> Flask:
    """Build the review app over a results database.

    ``token``: when set, every request must present it once (auth.py).
    ``reviewer``: a fixed reviewer name for every decision (otherwise each
    reviewer types theirs). ``mask``: hide phone, ID-card and bank-card
    numbers in pages. ``audio_roots``: folders besides each batch's own input
    folder that recordings may be played from (recordings.py says what is served).
    ``timezone``: the reviewers' zone for times on pages (default Asia/Shanghai).
    ``public_url``: the app's address, for the page links in calls.csv on disk.
    """
    db_path = resolve_db_path(db_path)
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(
            f"the access token has {len(token)} characters; use at least {MIN_TOKEN_LENGTH} "
            "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or _secret_key(db_path),
        CALLQA_DB=db_path,
        CALLQA_DIR=db_path.parent,
        CALLQA_TOKEN=token or None,
        CALLQA_REVIEWER=(reviewer or "").strip() or None,
        CALLQA_MASK=mask,
        CALLQA_AUDIO_ROOTS=tuple(Path(r).resolve() for r in audio_roots),
        CALLQA_TZ=timezone_for(timezone or os.environ.get("CALLQA_TIMEZONE")),
        # A batch on a read-only disk is still worth reviewing: pages work, decisions are refused with a reason.
        CALLQA_READ_ONLY=not is_writable(db_path),
        SESSION_COOKIE_NAME="callqa_review",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a review can take longer than an hour; the token is bound to the session
        MAX_CONTENT_LENGTH=64 * 1024,  # forms only
        # Without a token the app trusts whoever reaches it, so only on loopback names: a web page
        # that rebinds its own DNS name to 127.0.0.1 sends its name as Host and gets 400.
        TRUSTED_HOSTS=None if token else list(security.LOOPBACK_NAMES),
    )
    app.extensions["callqa_reports"] = ReportRefresher(db_path, db_path.parent, public_url)
    app.extensions["callqa_sign_in"] = auth.SignInThrottle()
    security.init_app(app)
    db.init_app(app)
    filters.init_app(app)
    app.before_request(auth.require_token)
    for blueprint in (auth.bp, views.bp, queue.bp, agents.bp, appeals.bp, calibration.bp, downloads.bp):
        app.register_blueprint(blueprint)
    return app
