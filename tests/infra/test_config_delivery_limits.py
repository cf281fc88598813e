"""AWS limits and exclusions of the SageMaker path are rejected at config time, naming the key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from infra.config import ConfigError
from mlstack.cli.app import app
from mlstack.project import PROJECT_ROOT
from tests.conftest import edit_stack_file
from tests.infra.config_helpers import config_from_doc

Edit = Callable[[dict[str, Any]], None]


def stack_doc(stack: str) -> dict[str, Any]:
    path = PROJECT_ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    return YAML(typ="safe").load(path.read_text())["config"]


def rejected(edit: Edit, stack: str = "production") -> str:
    doc = copy.deepcopy(stack_doc(stack))
    edit(doc)
    with pytest.raises(ConfigError) as info:
        config_from_doc(stack, doc)
    message = str(info.value)
    assert message.startswith(f"stacks/Pulumi.{stack}.yaml: ")
    return message


def rollout(**fields: Any) -> Edit:
    return lambda doc: doc["mlstack:rollout"].update(fields)


def section(key: str, **fields: Any) -> Edit:
    return lambda doc: doc.setdefault(f"mlstack:{key}", {}).update(fields)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (rollout(stepPercent=80), "rollout.stepPercent = 80"),
        (rollout(strategy="linear", stepPercent=5), "rollout.stepPercent = 5"),
        (rollout(strategy="linear", stepPercent=60), "rollout.stepPercent = 60"),
        (rollout(strategy="rolling", stepPercent=60), "rollout.stepPercent = 60"),
        (rollout(bakeSeconds=3601), "rollout.bakeSeconds = 3601"),
        (rollout(terminationWaitSeconds=-1), "rollout.terminationWaitSeconds = -1"),
        (rollout(terminationWaitSeconds=3601), "rollout.terminationWaitSeconds = 3601"),
        (rollout(maximumExecutionTimeoutSeconds=599), "rollout.maximumExecutionTimeoutSeconds"),
        (rollout(maximumExecutionTimeoutSeconds=28801), "rollout.maximumExecutionTimeoutSeconds"),
    ],
)
def test_rejects_rollout_values_outside_aws_limits(edit: Edit, key: str) -> None:
    assert f"mlstack:{key}" in rejected(edit)


def test_rejects_more_than_ten_rollback_alarms() -> None:
    alarms = [{"metric": "latency-p99", "threshold": 100 + i} for i in range(11)]
    assert "mlstack:rollout.rollbackAlarms" in rejected(rollout(rollbackAlarms=alarms))


def test_rejects_linear_without_rollback_alarms() -> None:
    message = rejected(rollout(strategy="linear", stepPercent=20, rollbackAlarms=[]), "staging")
    assert "mlstack:rollout.rollbackAlarms" in message


def test_rejects_rolling_on_a_multi_variant_endpoint() -> None:
    def edit(doc: dict[str, Any]) -> None:
        rollout(strategy="rolling", stepPercent=None)(doc)
        doc["mlstack:rollout"].pop("stepPercent")
        doc["mlstack:sagemaker"]["abVariants"] = [{"name": "challenger", "packageVersion": 4}]

    message = rejected(edit)
    assert "mlstack:rollout.strategy" in message
    assert "multi-variant" in message


def test_rejects_rolling_on_a_serverless_endpoint() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"] = {"strategy": "rolling"}
        doc["mlstack:sagemaker"].update(
            mode="serverless", networkIsolation=False, dataCapture={"enabled": False}
        )
        doc["mlstack:monitoring"]["drift"] = {"enabled": False}

    assert "mlstack:rollout.strategy" in rejected(edit, "staging")


def test_rejects_production_rollback_without_latency_and_5xx_alarms() -> None:
    alarms = [{"metric": "errors-4xx", "threshold": 5}, {"metric": "model-errors", "threshold": 1}]
    assert "mlstack:rollout.rollbackAlarms" in rejected(rollout(rollbackAlarms=alarms))


def test_rejects_serverless_in_production() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:sagemaker"].update(
            mode="serverless", networkIsolation=False, dataCapture={"enabled": False}
        )
        doc["mlstack:monitoring"]["drift"] = {"enabled": False}

    assert "mlstack:sagemaker.mode" in rejected(edit)


def test_rejects_serverless_with_data_capture() -> None:
    edit = section("sagemaker", mode="serverless", networkIsolation=False)
    assert "mlstack:sagemaker.dataCapture.enabled" in rejected(edit, "staging")


def test_rejects_serverless_memory_off_the_1024_mb_grid() -> None:
    edit = section("sagemaker", serverless={"memorySizeMb": 1500})
    assert "mlstack:sagemaker.serverless.memorySizeMb" in rejected(edit, "staging")


def test_rejects_missing_model_source() -> None:
    message = rejected(lambda doc: doc.pop("mlstack:model"))
    assert "mlstack:model.packageVersion" in message


def test_rejects_package_version_that_is_not_an_integer() -> None:
    message = rejected(section("model", packageVersion="3"))
    assert "mlstack:model.packageVersion" in message


def test_rejects_both_package_and_image() -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serving:1.0.0"
    assert "mlstack:model.imageUri" in rejected(section("model", imageUri=image))


def test_rejects_shadow_of_the_served_version() -> None:
    edit = section("model", shadow={"packageVersion": 3, "samplingPercent": 10})
    assert "mlstack:model.shadow.packageVersion" in rejected(edit)


def test_rejects_instance_count_outside_autoscaling_range() -> None:
    assert "mlstack:sagemaker.instanceCount" in rejected(section("autoscaling", minInstances=4))


def test_rejects_autoscaling_min_above_max() -> None:
    edit = section("autoscaling", minInstances=5, maxInstances=4)
    assert "mlstack:autoscaling.minInstances" in rejected(edit)


def test_rejects_single_instance_autoscaling_floor_in_production() -> None:
    edit = section("autoscaling", minInstances=1)
    assert "mlstack:autoscaling.minInstances" in rejected(edit)


def test_rejects_duplicate_variant_names() -> None:
    edit = section("sagemaker", abVariants=[{"name": "AllTraffic", "packageVersion": 4}])
    assert "mlstack:sagemaker.abVariants" in rejected(edit, "staging")


runner = CliRunner()


def test_cli_exits_two_naming_a_canary_step_above_fifty(project_copy: Path) -> None:
    edit_stack_file(project_copy, "production", rollout(stepPercent=80))
    result = runner.invoke(app, ["plan", "production", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "stacks/Pulumi.production.yaml: mlstack:rollout.stepPercent = 80" in result.stderr
    assert "1-50" in result.stderr
    assert "Traceback" not in result.output
