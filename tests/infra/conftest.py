"""Plans of the EKS path shared by the infra tests (see :mod:`tests.infra.eks_plans`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlstack.offline.harness import run_plan
from mlstack.offline.plan import Plan
from tests.conftest import edit_stack_file, make_project_copy
from tests.infra.eks_plans import enable_eks_on_staging

PlanWith = Callable[..., Plan]


@pytest.fixture(scope="session")
def staging_eks_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """Staging with EKS enabled, planned once per test session."""
    root = make_project_copy(tmp_path_factory.mktemp("staging-eks") / "project")
    edit_stack_file(root, "staging", enable_eks_on_staging)
    return run_plan("staging", root)


@pytest.fixture
def plan_with(project_copy: Path) -> PlanWith:
    """``plan_with(stack, *edits)``: plan a throwaway copy of the project after applying
    ``edits`` to the stack file."""

    def _plan(stack: str, *edits: Callable[[dict[str, Any]], None]) -> Plan:
        for edit in edits:
            edit_stack_file(project_copy, stack, edit)
        return run_plan(stack, project_copy)

    return _plan
