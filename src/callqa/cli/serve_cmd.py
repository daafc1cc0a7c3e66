"""`callqa serve DIR`: the supervisors' review web app over a scored batch."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from ..errors import EXIT_USAGE
from .app import command, fail, warn


@command("serve")
def serve(
    target: Path = typer.Argument(..., metavar="DIR", help="A scored batch directory (holding callqa.sqlite) or the database file."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on. Anything but loopback needs --token."),
    port: int = typer.Option(8765, help="Port; 0 picks a free one (the address is printed)."),
    token: str | None = typer.Option(
        None, envvar="CALLQA_TOKEN", help="Access token every reviewer must give once (env CALLQA_TOKEN)."
    ),
    reviewer: str | None = typer.Option(None, help="Record every decision under this reviewer name."),
    mask: bool = typer.Option(True, "--mask/--no-mask", help="Mask phone, ID-card and bank-card numbers."),
    audio_root: list[Path] | None = typer.Option(
        None, "--audio-root",
        help="A folder recordings may also be played from (default: only each batch's input folder). Repeatable.",
    ),
    timezone: str = typer.Option(
        "Asia/Shanghai", envvar="CALLQA_TIMEZONE", help="Time zone the pages show times in (env CALLQA_TIMEZONE)."
    ),
) -> None:
    """Review flagged calls in the browser: listen, see the evidence, confirm or dismiss findings."""
    from werkzeug.serving import make_server

    from ..review import create_app, is_loopback
    from ..review.security import RedactingRequestHandler

    if not is_loopback(host) and not token:
        raise fail(
            f"refusing to listen on {host} without an access token: anyone who can reach it could read "
            "the calls and change scores. Set --token TOKEN (or env CALLQA_TOKEN), or keep the default 127.0.0.1."
        )
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown time zone {timezone!r} (e.g. Asia/Shanghai, UTC)") from None
    try:
        web = create_app(target, token=token, reviewer=reviewer, mask=mask, audio_roots=tuple(audio_root or ()),
                         timezone=timezone)
    except FileNotFoundError as e:
        raise fail(str(e)) from None
    try:
        server = make_server(host, port, web, threaded=True, request_handler=RedactingRequestHandler)
    except OSError as e:
        raise fail(f"cannot listen on {host}:{port}: {e}", EXIT_USAGE) from None
    shown_host = f"[{host}]" if ":" in host else host
    # calls.csv on disk links each call's page at the address the server really has
    web.extensions["callqa_reports"].link_base = f"http://{shown_host}:{server.server_port}"
    typer.echo(f"callqa review: http://{shown_host}:{server.server_port}/  (database {web.config['CALLQA_DB']})")
    if token:
        typer.echo("access token required: sign in on the page, or open the address once with ?token=...")
    if web.config["CALLQA_READ_ONLY"]:
        warn(f"{web.config['CALLQA_DB']} is read-only: the pages work, decisions can't be saved")
    if not mask:
        warn("--no-mask: phone, ID-card and bank-card numbers are shown in full")
    typer.echo("Ctrl+C stops the server; decisions are already saved.", err=True)
    # A service manager's SIGTERM stops it like Ctrl+C, so the CSV reports get their last rewrite.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if not web.extensions["callqa_reports"].flush(timeout=120):
            warn("the CSV reports may lag the last decisions; `callqa report DIR` rewrites them")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
