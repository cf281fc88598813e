"""Build a StackConfig from a stack file without running the program (for fast config tests)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.config import PROJECT, ConfigError, StackConfig, build_config
from mlstack.offline.stack_files import encode_config, load_project, load_stack_doc
from mlstack.project import PROJECT_ROOT


def raw_config(stack: str, root: Path = PROJECT_ROOT) -> tuple[dict[str, str], str | None]:
    """A stack's project-namespace config (key without namespace -> encoded) and region."""
    project = load_project(root)
    encoded = encode_config(project, load_stack_doc(project, stack))
    prefix = f"{PROJECT}:"
    raw = {k[len(prefix) :]: v for k, v in encoded.values.items() if k.startswith(prefix)}
    return raw, encoded.values.get("aws:region")


def config_from_doc(stack: str, doc: dict[str, Any]) -> StackConfig:
    """Validate a config mapping written as it would be in a stack file."""
    project = load_project(PROJECT_ROOT)
    encoded = encode_config(project, doc)
    return build_config(stack, encoded.values, encoded.secret_keys)


def shipped_doc(stack: str) -> dict[str, Any]:
    """The ``config:`` mapping of a shipped stack file, as YAML reads it."""
    return load_stack_doc(load_project(PROJECT_ROOT), stack)


def rejection(edit: Callable[[dict[str, Any]], object], stack: str = "production") -> str:
    """The message a shipped stack file gets after ``edit``; fails when it is accepted."""
    doc = copy.deepcopy(shipped_doc(stack))
    edit(doc)
    try:
        config_from_doc(stack, doc)
    except ConfigError as err:
        message = str(err)
        assert message.startswith(f"stacks/Pulumi.{stack}.yaml: ")
        assert "^" not in message and "\\" not in message, "a message shows a pattern"
        return message
    raise AssertionError("the edited stack file was accepted")
