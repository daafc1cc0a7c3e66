"""The supervisors' review web app (`callqa serve`): dashboard, review queue,
call pages with audio and evidence, and decisions that re-score calls."""

from .app import create_app, is_loopback, resolve_db_path

__all__ = ["create_app", "is_loopback", "resolve_db_path"]
