"""What every response carries and every request must satisfy beyond the token: CSRF, headers, hosts."""

from __future__ import annotations

import re

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.serving import WSGIRequestHandler

__all__ = ["CSP", "LOOPBACK_NAMES", "init_app", "RedactingRequestHandler", "redact_token"]

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*", re.IGNORECASE)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
# Everything comes from this server: no CDN, no inline script; charts are inline SVG markup.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def _csrf_failed(error: CSRFError):
    # Nothing was changed; say so plainly instead of a bare "Bad Request".
    return render_template("error.html", title="Request refused",
                           message=f"{error.description} Nothing was changed: reload the page and try again."), 400


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")  # no clicking decisions through a frame
    response.headers.setdefault("Referrer-Policy", "no-referrer")  # never leak ?token= onwards
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")  # scores change with every decision
    return response


def init_app(app: Flask) -> None:
    CSRFProtect(app)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.after_request(_security_headers)


def redact_token(text: str) -> str:
    """A request line with any ``?token=`` value replaced: the access log must not hold the token."""
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging request lines without the access token."""

    def log(self, type: str, message: str, *args) -> None:
        super().log(type, "%s", redact_token(message % args if args else message))
