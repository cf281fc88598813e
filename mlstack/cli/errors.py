"""Exit codes and the one way the CLI reports a user error: short, on stderr, no traceback."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

EXIT_OK = 0
EXIT_POLICY = 1
"""A mandatory policy is violated (the plan is still printed)."""
EXIT_USAGE = 2
"""Bad config or usage; the message names the file and the key."""
EXIT_REMOTE = 3
"""A cloud call failed (unreachable, denied, missing resource, unhealthy endpoint)."""


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)
