"""The project's one error type for user mistakes, and how a program reports everything else as a bug."""

from __future__ import annotations

import sys
import traceback

BUG_REPORT = ("this is a bug in R2L Viewer, not something you did: please report it with the traceback above and the "
              "command you ran")


class UserError(ValueError):
    """A mistake the user can fix (bad data, a bad option, a refused file): its message is one line saying what is
    wrong and what to do. Programs print it as that line and exit with code 2; any other exception is a bug.
    (A ValueError, so code that asks for a bad value with `except ValueError` still catches it.)"""


def report_bug(program: str) -> int:
    """Print the exception being handled with its traceback, then one line asking for a bug report; exit code 1."""
    traceback.print_exc()
    print(f"{program}: {BUG_REPORT}", file=sys.stderr)
    return 1
