"""Who may use the app: the access token, sign-in and sign-out (as flaskr's auth.py).

Without a token the app trusts whoever reaches it, so it answers only on
loopback names (security.py). With one, every request must present it once:
the sign-in form, ``?token=`` on a link, or ``Authorization: Bearer``; the
session then remembers a keyed hash of it, never the token itself.
Wrong tokens are counted per client address: after MAX_FAILURES in
FAILURE_WINDOW_S the address is refused (429) until the window has passed, so
a token can't be guessed by trying.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict, deque

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

__all__ = ["bp", "token_tag", "require_token", "safe_target", "SignInThrottle", "PUBLIC_ENDPOINTS", "ROLES",
           "current_role",
           "reviewer_name", "reviewer_from_form"]

bp = Blueprint("auth", __name__)

# reachable without the token: nothing secret, and the sign-in page offers the language switch
PUBLIC_ENDPOINTS = {"auth.login", "static", "review.favicon", "review.language"}

# Who does what. An agent may appeal a confirmed finding; a reviewer decides findings and rules on
# appeals; a supervisor does both and appeals on an agent's behalf. The role is chosen at sign-in:
# the token says only that someone may use the app, so real identity belongs to the company's proxy.
ROLES = ("agent", "reviewer", "supervisor")


NAME_MAX = 80


def reviewer_name() -> str:
    """Who is acting: the --reviewer name for everyone, else the name this reviewer gave."""
    return current_app.config["CALLQA_REVIEWER"] or session.get("reviewer", "")


def reviewer_from_form() -> str:
    """The acting reviewer's name for a decision; a name typed in the form is remembered for the next one."""
    fixed = current_app.config["CALLQA_REVIEWER"]
    if fixed:
        return fixed
    name = request.form.get("reviewer", "").strip()[:NAME_MAX]
    if name:
        session["reviewer"] = name
    return name


def current_role() -> str:
    """The signed-in role; without a token the app trusts whoever reaches it (loopback only): supervisor."""
    if not current_app.config["CALLQA_TOKEN"]:
        return "supervisor"
    role = session.get("role")
    return role if role in ROLES else "reviewer"


MAX_FAILURES = 5
FAILURE_WINDOW_S = 60.0


class SignInThrottle:
    """Wrong tokens per client address within a sliding window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures[client]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def wait_s(self, client: str) -> float:
        """Seconds until ``client`` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            return 0.0 if len(times) < self.max_failures else self.window_s - (now - times[0])

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


def _throttle() -> SignInThrottle:
    return current_app.extensions["callqa_sign_in"]


def _too_many():
    wait = _throttle().wait_s(request.remote_addr or "")
    if wait <= 0:
        return None
    seconds = int(wait) + 1
    return (f"Too many wrong tokens from this address; try again in {seconds} s.", 429,
            {"Retry-After": str(seconds)})


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
    if offered and (refused := _too_many()):
        return refused
    if offered and hmac.compare_digest(offered.encode(), expected.encode()):
        session["authed"] = token_tag(expected)
        if request.method == "GET" and "token" in request.args:
            # Drop the token from the address bar and the browser history.
            args = {k: v for k, v in request.args.items() if k != "token"}
            return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))
        return None
    if offered:
        _throttle().failed(request.remote_addr or "")
    if request.method == "GET" and not request.path.startswith("/export/") and request.endpoint != "review.audio":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return ("token required", 401)


def safe_target(target: str) -> str:
    """``target`` if it is a path on this site, else the dashboard: no open redirect.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash,
    so /%09/evil.example and /\\evil.example would leave the site: any control
    character, space or backslash refuses the target, as does anything with
    a scheme or a host once parsed.
    """
    from urllib.parse import urlsplit

    fallback = url_for("review.dashboard")
    if not target.startswith("/") or any(ch.isspace() or ord(ch) < 0x20 or ch in "\\\x7f" for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    expected = current_app.config["CALLQA_TOKEN"]
    target = safe_target(request.values.get("next", ""))
    signed_in = expected and hmac.compare_digest(session.get("authed", ""), token_tag(expected))
    if not expected or (request.method == "GET" and signed_in):
        return redirect(target)
    if request.method == "POST":
        if refused := _too_many():
            return refused
        offered = request.form.get("token", "")
        if hmac.compare_digest(offered.encode(), expected.encode()):
            session["authed"] = token_tag(expected)
            role = request.form.get("role", "reviewer")
            session["role"] = role if role in ROLES else "reviewer"
            name = request.form.get("name", "").strip()[:80]
            if name:
                session["reviewer"] = name
            return redirect(target)
        _throttle().failed(request.remote_addr or "")
        flash("令牌错误 Wrong token.", "error")
        return render_template("login.html", next=target, roles=ROLES), 401
    return render_template("login.html", next=target, roles=ROLES)


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
