"""Each class of invalid config is rejected with the stack file, key path and what is allowed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from ruamel.yaml import YAML

from infra.config import ConfigError
from mlstack.project import PROJECT_ROOT
from tests.infra.config_helpers import config_from_doc


def production_doc() -> dict[str, Any]:
    doc = YAML(typ="safe").load((PROJECT_ROOT / "stacks" / "Pulumi.production.yaml").read_text())
    return doc["config"]


def rejected(edit: Callable[[dict[str, Any]], None], stack: str = "production") -> str:
    doc = copy.deepcopy(production_doc())
    edit(doc)
    with pytest.raises(ConfigError) as info:
        config_from_doc(stack, doc)
    message = str(info.value)
    assert message.startswith(f"stacks/Pulumi.{stack}.yaml: ")
    assert len(message.splitlines()) <= 3
    return message


def test_rejects_misspelt_rollout_key_with_hint() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["mlstack:rollout"]["stepPercnt"] = doc["mlstack:rollout"].pop("stepPercent")

    message = rejected(edit)
    assert "mlstack:rollout.stepPercnt: unknown key" in message
    assert "did you mean 'stepPercent'?" in message


def test_rejects_unknown_top_level_key_with_hint() -> None:
    message = rejected(lambda doc: doc.update({"mlstack:rolout": {"strategy": "canary"}}))
    assert "mlstack:rolout: unknown key" in message
    assert "did you mean 'mlstack:rollout'?" in message


def test_rejects_unknown_key_inside_a_list_item() -> None:
    message = rejected(
        lambda doc: doc["mlstack:rollout"]["rollbackAlarms"][0].update({"treshold": 1})
    )
    assert "mlstack:rollout.rollbackAlarms[0].treshold: unknown key" in message
    assert "did you mean 'threshold'?" in message


def test_rejects_wrong_type() -> None:
    message = rejected(lambda doc: doc["mlstack:sagemaker"].update({"instanceCount": "three"}))
    assert 'mlstack:sagemaker.instanceCount = "three"' in message
    assert "integer" in message


def test_rejects_number_as_string_in_objects() -> None:
    message = rejected(lambda doc: doc["mlstack:rollout"].update({"bakeSeconds": "600"}))
    assert "mlstack:rollout.bakeSeconds" in message


def test_rejects_bake_seconds_above_aws_limit() -> None:
    message = rejected(lambda doc: doc["mlstack:rollout"].update({"bakeSeconds": 3601}))
    assert "mlstack:rollout.bakeSeconds = 3601" in message
    assert "3600" in message


def test_rejects_canary_larger_than_half_the_fleet() -> None:
    message = rejected(lambda doc: doc["mlstack:rollout"].update({"stepPercent": 80}))
    assert "mlstack:rollout.stepPercent = 80" in message
    assert "1-50" in message


def test_rejects_linear_step_below_ten_percent() -> None:
    message = rejected(
        lambda doc: doc["mlstack:rollout"].update({"strategy": "linear", "stepPercent": 5})
    )
    assert "mlstack:rollout.stepPercent = 5" in message
    assert "10-50" in message


def test_rejects_unknown_strategy() -> None:
    message = rejected(lambda doc: doc["mlstack:rollout"].update({"strategy": "big-bang"}))
    assert 'mlstack:rollout.strategy = "big-bang"' in message
    assert "canary" in message


def test_rejects_canary_without_rollback_alarms() -> None:
    message = rejected(lambda doc: doc["mlstack:rollout"].update({"rollbackAlarms": []}))
    assert "mlstack:rollout.rollbackAlarms" in message
    assert "rollback alarms" in message


def test_rejects_error_rate_above_hundred_percent() -> None:
    message = rejected(
        lambda doc: doc["mlstack:rollout"]["rollbackAlarms"][1].update({"threshold": 150})
    )
    assert "mlstack:rollout.rollbackAlarms[1]" in message
    assert "percent" in message


def test_rejects_single_instance_in_production() -> None:
    message = rejected(lambda doc: doc["mlstack:sagemaker"].update({"instanceCount": 1}))
    assert "mlstack:sagemaker.instanceCount = 1" in message
    assert "at least 2" in message


def test_rejects_advisory_policy_in_production() -> None:
    message = rejected(lambda doc: doc["mlstack:policy"].update({"enforcement": "advisory"}))
    assert 'mlstack:policy.enforcement = "advisory"' in message


def test_rejects_unknown_environment() -> None:
    message = rejected(lambda doc: doc.update({"mlstack:environment": "prod"}))
    assert 'mlstack:environment = "prod"' in message
    assert "staging, production" in message


def test_rejects_missing_region() -> None:
    message = rejected(lambda doc: doc.pop("aws:region"))
    assert "aws:region is not set" in message


def test_rejects_section_that_is_not_an_object() -> None:
    message = rejected(lambda doc: doc.update({"mlstack:rollout": "canary"}))
    assert 'mlstack:rollout = "canary"' in message
    assert "object" in message
