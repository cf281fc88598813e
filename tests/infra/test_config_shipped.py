"""Every shipped stack file validates, and production is the stricter one."""

from __future__ import annotations

import pytest

from infra.config import Environment, build_stack_config
from infra.config.policy import PolicyEnforcement
from infra.config.rollout import RolloutStrategy
from tests.conftest import SHIPPED_STACKS
from tests.infra.config_helpers import raw_config


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stack_validates(stack: str) -> None:
    raw, region = raw_config(stack)
    config = build_stack_config(stack, raw, region)
    assert config.stack == stack
    assert config.environment is Environment(stack)


def test_production_is_stricter_than_staging() -> None:
    staging = build_stack_config("staging", *raw_config("staging"))
    production = build_stack_config("production", *raw_config("production"))
    assert production.sagemaker.instance_count > staging.sagemaker.instance_count
    assert production.sagemaker.instance_count >= 2
    assert production.rollout.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR)
    assert len(production.rollout.rollback_alarms) >= 2
    assert production.policy.enforcement is PolicyEnforcement.MANDATORY


def test_config_objects_are_frozen() -> None:
    config = build_stack_config("staging", *raw_config("staging"))
    with pytest.raises(Exception, match="frozen"):
        config.rollout.bake_seconds = 1  # type: ignore[misc]
