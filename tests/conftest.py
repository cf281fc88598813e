"""Shared fixtures: offline plans of the shipped stacks and of edited copies of them."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import mlstack.cli.diff_cmd
import mlstack.cli.plan_cmd
from mlstack.cli.app import freeze_heap_at_exit
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


_PLAN_ENV_PREFIXES = ("MLSTACK_", "PULUMI_", "AWS_")


def _plan_inputs(stack: str, project_dir: Path, *, with_location: bool) -> str:
    """A digest of everything a plan reads: the project and stack files, the tier
    declaration, the committed pipeline definitions, the program's code and the environment;
    with ``with_location``, where the project is too (a plan records its paths)."""
    root = Path(project_dir).resolve()
    digest = hashlib.sha256(stack.encode() + b"\0")
    if with_location:
        digest.update(f"{root}\0{(root / 'infra').resolve()}\0".encode())
    files = [root / "Pulumi.yaml", tiers_file(root)]
    for folder, pattern in (("stacks", "*"), ("infra", "*.py")):
        if (root / folder).is_dir():
            files += sorted(p for p in (root / folder).rglob(pattern) if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    for key in sorted(os.environ):
        if key.startswith(_PLAN_ENV_PREFIXES):
            digest.update(f"{key}={os.environ[key]}\0".encode())
    return digest.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def cli_plans_shared_within_the_session() -> Any:
    """The CLI's plans are shared within a test session: a CLI command planning a stack whose
    files, program and environment a previous command already planned gets a copy of that
    plan (``mlstack diff``: of that plan document). Plans are deterministic
    (tests/test_plan_identity.py), so this only saves time; tests of the harness and of
    ``mlstack.offline.at_ref`` call them directly and always plan afresh."""
    plans: dict[str, Any] = {}
    run_plan_of_cli = mlstack.cli.plan_cmd.run_plan
    plan_document_of_diff = mlstack.cli.diff_cmd.plan_document

    def run_plan_once(stack: str, project_dir: Path = PROJECT_ROOT) -> Plan:
        key = "plan " + _plan_inputs(stack, project_dir, with_location=True)
        if key not in plans:
            plans[key] = run_plan_of_cli(stack, project_dir)
        return copy.deepcopy(plans[key])

    def plan_document_once(stack: str, project_root: Path, label: str) -> dict[str, Any]:
        key = f"document {label} " + _plan_inputs(stack, project_root, with_location=False)
        if key not in plans:
            plans[key] = plan_document_of_diff(stack, project_root, label)
        return copy.deepcopy(plans[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlstack.cli.plan_cmd, "run_plan", run_plan_once)
        patch.setattr(mlstack.cli.diff_cmd, "plan_document", plan_document_once)
        yield


def pytest_unconfigure(config: pytest.Config) -> None:
    """A worker holds the SDKs it imported and the plans it keeps until the end; its exit
    would traverse them all in its last garbage collections (2 s after
    tests/infra/components alone)."""
    freeze_heap_at_exit()
