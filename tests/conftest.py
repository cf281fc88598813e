"""Shared fixtures: offline plans of the shipped stacks and of edited copies of them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from mlstack.offline.secrets import FINGERPRINT_KEY_ENV
from mlstack.project import PROJECT_ROOT, tiers_file

SHIPPED_STACKS = ("staging", "production")

TEST_FINGERPRINT_KEY = "tests only, not a secret: fixed so saved plans stay the same"
os.environ[FINGERPRINT_KEY_ENV] = TEST_FINGERPRINT_KEY  # before any plan is made


@pytest.fixture(scope="session")
def shipped_plans() -> dict[str, Plan]:
    """The offline plan of every shipped stack, computed once per test session."""
    return {stack: run_plan(stack) for stack in SHIPPED_STACKS}


@pytest.fixture(scope="session")
def platform_plan() -> Plan:
    """The offline plan of the shipped stack of many models (stacks/Pulumi.platform.yaml),
    computed once per test session."""
    return run_plan("platform")


def make_project_copy(root: Path) -> Path:
    """A project at ``root`` sharing this checkout's program, with copies of its stack files."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(PROJECT_ROOT / "stacks", root / "stacks")
    (root / "policy_pack").mkdir()
    shutil.copy(tiers_file(PROJECT_ROOT), tiers_file(root))
    (root / "infra").symlink_to(PROJECT_ROOT / "infra", target_is_directory=True)
    return root


def edit_stack_file(project: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """Apply ``edit`` to the ``config`` mapping of a stack file, keeping its comments."""
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    yaml = YAML()
    doc = yaml.load(path.read_text())
    edit(doc["config"])
    with path.open("w") as handle:
        yaml.dump(doc, handle)
    return path


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A throwaway copy of the project whose stack files a test may edit."""
    return make_project_copy(tmp_path / "project")


@pytest.fixture
def plan_edited(project_copy: Path) -> Callable[[str, Callable[[dict[str, Any]], None]], Plan]:
    """Plan a stack after editing its config: ``plan_edited("production", edit)``."""

    def _plan(stack: str, edit: Callable[[dict[str, Any]], None]) -> Plan:
        edit_stack_file(project_copy, stack, edit)
        return run_plan(stack, project_copy)

    return _plan
