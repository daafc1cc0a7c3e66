"""The errors a user can fix, and the exit codes, in one place.

Every stage raises a subclass of :class:`CallqaError` for a problem the user
can act on; its message names the place (file, row, column, key) and the
valid values. The command line prints it as one line, ``error: <message>``,
never a traceback, and exits with its ``exit_code``:

    0    done
    1    FAILED       what was asked to pass did not: --fail-under, eval --strict, scorecard check,
                      models --verify, or every call of a batch failed
    2    USAGE        the command line or an input file is wrong (bad option, manifest, roster, scorecard,
                      model name)
    3    UNAVAILABLE  could not run: the model does not load, the output folder is in use or not writable
    130  INTERRUPTED  Ctrl-C or SIGTERM; run the same command again to resume
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_UNAVAILABLE",
    "EXIT_INTERRUPTED",
    "CallqaError",
    "UsageError",
    "UnavailableError",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130


class CallqaError(Exception):
    """A problem the user can fix; the message says what and where."""

    exit_code: ClassVar[int] = EXIT_USAGE


class UsageError(CallqaError, ValueError):
    """The command line or an input file is wrong (a ValueError, for callers that catch those)."""

    exit_code: ClassVar[int] = EXIT_USAGE


class UnavailableError(CallqaError, RuntimeError):
    """Something the command needs can't be used right now: the model, the output folder."""

    exit_code: ClassVar[int] = EXIT_UNAVAILABLE
