"""Plan section: where the stack's secrets are, never what they are."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mlstack.offline.plan import Plan
from mlstack.offline.secrets import is_ciphertext_fingerprint
from mlstack.operations import flatten, is_secret


def _secret_paths(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    return [(path, leaf) for path, leaf in flatten(value, prefix).items() if is_secret(leaf)]


def secret_locations(plan: Plan) -> list[tuple[str, str]]:
    """``(where, how)`` of every secret: config keys first, then resource inputs."""
    found: list[tuple[str, str]] = []
    for key, value in plan.settings.items():
        for path, leaf in _secret_paths(value, key):
            how = (
                "secure: value (compared by its ciphertext)"
                if is_ciphertext_fingerprint(leaf)
                else "plain text in the stack file: give it as a secure: value"
            )
            found.append((f"config {path}", how))
    for resource in plan.resources:
        kind = resource.type.split(":")[-1]
        for path, _ in _secret_paths(resource.inputs):
            found.append((f"{resource.name} ({kind}) {path}", "secret input"))
    return found


def secret_summary(plan: Plan, console: Console) -> None:
    """One line per secret config value and per secret resource input; nothing without."""
    locations = secret_locations(plan)
    if not locations:
        return
    console.print(
        f"[bold]secrets[/bold] ({len(locations)}; values never shown, "
        "compared by keyed fingerprint)"
    )
    for where, how in locations:
        console.print(f"  {escape(where)}: {escape(how)}")
