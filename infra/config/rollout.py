"""``mlstack:rollout``: how a new model version goes live (compiled by ``infra/rollout.py``)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.base import FieldError, Section


class RolloutStrategy(str, Enum):
    """How a new model version replaces the old one (see ``infra/rollout.py``)."""

    ALL_AT_ONCE = "all-at-once"
    CANARY = "canary"
    LINEAR = "linear"
    ROLLING = "rolling"


class RollbackMetric(str, Enum):
    """A metric whose alarm rolls a deployment back. Thresholds: latency in milliseconds,
    error rates in percent of invocations."""

    LATENCY_P99 = "latency-p99"
    LATENCY_AVERAGE = "latency-average"
    ERRORS_5XX = "errors-5xx"
    ERRORS_4XX = "errors-4xx"
    MODEL_ERRORS = "model-errors"


class RollbackAlarm(Section):
    """One alarm that rolls a deployment back, watching the new fleet."""

    metric: RollbackMetric
    """Which metric the alarm watches."""
    threshold: Annotated[float, Field(gt=0)]
    """Milliseconds for latency metrics, percent of invocations for error rates."""
    evaluation_periods: Annotated[int, Field(ge=1, le=10)] = 2
    """Consecutive one-minute periods over the threshold before rolling back. Default 2."""

    @model_validator(mode="after")
    def _rates_are_percentages(self) -> RollbackAlarm:
        is_rate = self.metric not in (RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE)
        if is_rate and self.threshold > 100:
            raise ValueError(
                f"threshold {self.threshold:g} is a rate in percent of invocations: use 0-100"
            )
        return self


class RolloutPolicy(Section):
    """``mlstack:rollout``: how a new model version goes live, compiled by ``infra/rollout.py``."""

    strategy: RolloutStrategy = RolloutStrategy.ALL_AT_ONCE
    """all-at-once, canary, linear or rolling. Default all-at-once."""
    step_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    """Canary size (1-50) or linear step (10-50), in percent of the fleet, required for both;
    rolling batch size (5-50, default 25)."""
    bake_seconds: Annotated[int, Field(ge=0, le=3600)] = 600
    """Wait between traffic shifts while alarms are watched (0-3600 s). Default 600."""
    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Old fleet kept after full shift, for a quick rollback (0-3600 s). Default 300."""
    maximum_execution_timeout_seconds: Annotated[int, Field(ge=600, le=28800)] = 3600
    """Upper bound of the whole deployment (600-28800 s). Default 3600."""
    rollback_alarms: Annotated[list[RollbackAlarm], Field(max_length=10)] = []
    """Alarms that roll the deployment back (at most 10). Required for canary and linear."""

    @model_validator(mode="after")
    def _check_strategy_limits(self) -> RolloutPolicy:
        step = self.step_percent
        if self.strategy is RolloutStrategy.CANARY:
            if step is None or not 1 <= step <= 50:
                raise FieldError("stepPercent", step, "a canary is 1-50 percent of the fleet")
        elif self.strategy is RolloutStrategy.LINEAR:
            if step is None or not 10 <= step <= 50:
                raise FieldError("stepPercent", step, "a linear step is 10-50 percent")
        elif self.strategy is RolloutStrategy.ROLLING:
            if step is not None and not 5 <= step <= 50:
                raise FieldError("stepPercent", step, "a rolling batch is 5-50 percent")
        elif step is not None and self.strategy is RolloutStrategy.ALL_AT_ONCE:
            raise FieldError("stepPercent", step, "all-at-once shifts 100%: remove stepPercent")
        needs_alarms = self.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR)
        if needs_alarms and not self.rollback_alarms:
            raise FieldError(
                "rollbackAlarms",
                [],
                f"a {self.strategy.value} rollout needs 1-10 rollback alarms to stop a bad version",
            )
        metrics = [alarm.metric for alarm in self.rollback_alarms]
        duplicates = sorted({m.value for m in metrics if metrics.count(m) > 1})
        if duplicates:
            raise FieldError("rollbackAlarms", duplicates, "each metric may appear once")
        return self
