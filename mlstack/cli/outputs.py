"""Outputs of a deployed stack, read with the Pulumi CLI when it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

OUTPUT_TIMEOUT_SECONDS = 120


def stack_output(stack: str, name: str, project_dir: Path) -> str | None:
    """``pulumi stack output NAME --stack STACK``, or None without the CLI or the output."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    done = subprocess.run(
        [pulumi, "stack", "output", name, "--stack", stack, "--non-interactive"],
        cwd=project_dir,
        capture_output=True,
        text=True,
        timeout=OUTPUT_TIMEOUT_SECONDS,
        check=False,
    )
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None
