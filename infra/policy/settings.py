"""Per-stack policy settings (enforcement level, environment) from the stack's config.

Both paths read the config in the CLI's string encoding (``mlstack:policy`` is a JSON
string): the offline plan keeps it in ``Plan.config``; a policy pack started by
``pulumi preview --policy-pack infra/policy`` receives it in ``PULUMI_CONFIG`` (or, with an
older CLI that does not pass it, reads ``stacks/Pulumi.<PULUMI_STACK>.yaml``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from infra.offline.stack_files import decode_object
from infra.policy.rules import StackContext

DEFAULT_ENFORCEMENT = "advisory"
MANDATORY = "mandatory"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _section(config: Mapping[str, str], key: str) -> dict:
    return decode_object(config.get(f"mlstack:{key}"))


def enforcement_from_config(config: Mapping[str, str]) -> str:
    """``mlstack:policy.enforcement`` (advisory when unset); always mandatory in production,
    as ``infra/config.py`` requires of production stacks."""
    if config.get("mlstack:environment") == "production":
        return MANDATORY
    level = _section(config, "policy").get("enforcement", DEFAULT_ENFORCEMENT)
    return MANDATORY if level == MANDATORY else DEFAULT_ENFORCEMENT


def context_from_config(stack: str, config: Mapping[str, str]) -> StackContext:
    """What stack rules know of the stack: its name and ``mlstack:environment``."""
    return StackContext(stack=stack, environment=config.get("mlstack:environment"))


def engine_config(
    environ: Mapping[str, str] = os.environ, project_root: Path = PROJECT_ROOT
) -> tuple[str, dict[str, str]]:
    """(stack, encoded config) of the stack a policy pack runs against.

    ``PULUMI_CONFIG`` (a JSON map) when the CLI passes it; else the stack file named by
    ``PULUMI_STACK``; else an empty config (advisory, no production-only rules).
    """
    stack = environ.get("PULUMI_STACK", "")
    raw = environ.get("PULUMI_CONFIG")
    if raw:
        try:
            config = json.loads(raw)
        except json.JSONDecodeError:
            config = None
        if isinstance(config, dict):
            return stack, {str(k): str(v) for k, v in config.items()}
    if stack:
        from infra.offline.stack_files import (
            StackFileError,
            encode_config,
            load_project,
            load_stack_doc,
        )

        try:
            project = load_project(project_root)
            return stack, encode_config(project, load_stack_doc(project, stack)).values
        except StackFileError:
            pass
    return stack, {}
