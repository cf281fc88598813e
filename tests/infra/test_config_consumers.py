"""Consumers read the resolved config from the config package: the plan document carries
it, and the model tooling takes group, version and region from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.config import OBJECT_SECTIONS, RegistryConfig
from mlstack.models.stack_file import StackEditError, read_stack_model
from mlstack.offline.plan import Plan
from tests.conftest import edit_stack_file, make_project_copy


def test_plan_document_carries_the_resolved_config(shipped_plans: dict[str, Plan]) -> None:
    config = shipped_plans["staging"].to_json()["config"]
    assert config["aws:region"] == "us-east-1"
    assert config["mlstack:environment"] == "staging"
    assert set(config) >= {f"mlstack:{key}" for key in OBJECT_SECTIONS}
    # Defaults the stack file leaves out are filled in, keyed as in the stack file.
    assert config["mlstack:kubernetes"]["targetCpuUtilizationPercent"] == 70
    assert config["mlstack:monitoring"]["alarms"]["errors4xx"]["periodSeconds"] == 300
    assert config["mlstack:rollout"]["strategy"] == "all-at-once"


def test_plan_document_config_of_production_names_the_account(
    shipped_plans: dict[str, Plan],
) -> None:
    config = shipped_plans["production"].to_json()["config"]
    assert config["mlstack:accountId"] == "123456789012"
    assert config["mlstack:eks"]["externalAdminPrincipalArns"] == []


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_project_copy(tmp_path / "project")


def test_model_group_default_comes_from_the_config_package(project: Path) -> None:
    def drop_group(config: dict[str, Any]) -> None:
        del config["mlstack:registry"]["modelPackageGroupName"]

    edit_stack_file(project, "staging", drop_group)
    model = read_stack_model(project, "staging")
    assert model.group == RegistryConfig().model_package_group_name
    assert (model.version, model.region) == (4, "us-east-1")


def test_model_group_of_model_section_wins(project: Path) -> None:
    edit_stack_file(
        project, "staging", lambda c: c["mlstack:model"].update(packageGroupName="fraud")
    )
    assert read_stack_model(project, "staging").group == "fraud"


def test_model_tooling_refuses_an_invalid_stack_file(project: Path) -> None:
    edit_stack_file(project, "staging", lambda c: c.update({"aws:region": "us-east-99"}))
    with pytest.raises(StackEditError, match="aws:region"):
        read_stack_model(project, "staging")
