"""``mlstack:rollout``: how a new model version goes live (compiled by ``infra/rollout.py``)."""

from __future__ import annotations

from enum import Enum
from math import ceil
from typing import Annotated

from pydantic import Field, model_validator

from infra.config.types import FieldError, Section, raise_all


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

    @property
    def unit(self) -> str:
        """The unit of this metric's threshold: ``ms`` for latency, ``%`` for error rates."""
        return "ms" if self in (RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE) else "%"


MAX_ROLLBACK_ALARMS = len(RollbackMetric)
"""One rollback alarm per metric: SageMaker accepts 10, the kit has 5 metrics."""

ROLLING_DEFAULT_STEP_PERCENT = 25
"""Batch size of a rolling update when stepPercent is not set."""


ROLLBACK_PERIOD_SECONDS = 60
"""Rollback alarms evaluate one-minute periods, so a bad canary is caught within its bake."""


class RollbackAlarm(Section):
    """One alarm that rolls a deployment back, watching the new fleet."""

    metric: RollbackMetric
    """Which metric the alarm watches: latency-p99, latency-average (milliseconds),
    errors-5xx, errors-4xx or model-errors (percent of invocations). Required."""
    threshold: Annotated[float, Field(gt=0)]
    """Milliseconds for latency metrics, percent of invocations for error rates. Required."""
    evaluation_periods: Annotated[int, Field(ge=1, le=10)] = 2
    """Consecutive one-minute periods over the threshold before rolling back (1-10).
    Default 2."""

    @model_validator(mode="after")
    def _rates_are_percentages(self) -> RollbackAlarm:
        if self.metric.unit == "%" and self.threshold > 100:
            raise FieldError(
                "threshold",
                self.threshold,
                "an error rate in percent of invocations: use 0-100",
            )
        return self


class RolloutPolicy(Section):
    """``mlstack:rollout``: how a new model version goes live, compiled by ``infra/rollout.py``."""

    strategy: RolloutStrategy = RolloutStrategy.ALL_AT_ONCE
    """all-at-once, canary, linear or rolling. Default all-at-once."""
    step_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    """Canary size (1-50) or linear step (10-50), in percent of the fleet, required for both;
    rolling batch size (5-50). Default none (rolling: 25)."""
    bake_seconds: Annotated[int, Field(ge=0, le=3600)] = 600
    """Wait between traffic shifts while alarms are watched (0-3600 s). Default 600."""
    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Old fleet kept after full shift, for a quick rollback (0-3600 s). Default 300."""
    maximum_execution_timeout_seconds: Annotated[int, Field(ge=600, le=28800)] = 3600
    """Upper bound of the whole deployment (600-28800 s). Default 3600."""
    rollback_alarms: Annotated[list[RollbackAlarm], Field(max_length=MAX_ROLLBACK_ALARMS)] = []
    """Alarms that roll the deployment back, at most one per metric (so at most 5). Required
    for canary and linear. Default none."""

    @model_validator(mode="after")
    def _check_strategy_limits(self) -> RolloutPolicy:
        errors: list[FieldError] = []
        step = self.step_percent
        if self.strategy is RolloutStrategy.CANARY:
            if step is None or not 1 <= step <= 50:
                errors.append(
                    FieldError("stepPercent", step, "a canary is 1-50 percent of the fleet")
                )
        elif self.strategy is RolloutStrategy.LINEAR:
            if step is None or not 10 <= step <= 50:
                errors.append(FieldError("stepPercent", step, "a linear step is 10-50 percent"))
        elif self.strategy is RolloutStrategy.ROLLING:
            if step is not None and not 5 <= step <= 50:
                errors.append(FieldError("stepPercent", step, "a rolling batch is 5-50 percent"))
        elif step is not None and self.strategy is RolloutStrategy.ALL_AT_ONCE:
            errors.append(
                FieldError("stepPercent", step, "all-at-once shifts 100%: remove stepPercent")
            )
        needs_alarms = self.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR)
        if needs_alarms and not self.rollback_alarms:
            errors.append(
                FieldError(
                    "rollbackAlarms",
                    [],
                    f"a {self.strategy.value} rollout needs 1-{MAX_ROLLBACK_ALARMS} rollback "
                    "alarms to stop a bad version",
                )
            )
        metrics = [alarm.metric for alarm in self.rollback_alarms]
        duplicates = sorted({m.value for m in metrics if metrics.count(m) > 1})
        if duplicates:
            errors.append(FieldError("rollbackAlarms", duplicates, "each metric may appear once"))
        if not errors and self.minimum_seconds() > self.maximum_execution_timeout_seconds:
            errors.append(
                FieldError(
                    "maximumExecutionTimeoutSeconds",
                    self.maximum_execution_timeout_seconds,
                    f"the {self.bakes()} bake(s) of {self.bake_seconds} s alone take "
                    f"{self.minimum_seconds()} s: raise it or shorten bakeSeconds",
                )
            )
        raise_all(errors)
        return self

    def bakes(self) -> int:
        """Bake periods a deployment waits through: one between two linear steps, one after
        each rolling batch, one for a canary or an all-at-once shift."""
        if self.strategy is RolloutStrategy.LINEAR and self.step_percent:
            return max(1, ceil(100 / self.step_percent) - 1)
        if self.strategy is RolloutStrategy.ROLLING:
            return ceil(100 / (self.step_percent or ROLLING_DEFAULT_STEP_PERCENT))
        return 1

    def minimum_seconds(self) -> int:
        """The least time a deployment takes: its bakes, in seconds."""
        return self.bakes() * self.bake_seconds
