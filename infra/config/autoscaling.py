"""``mlstack:autoscaling``: how the SageMaker endpoint's instance count follows traffic."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from infra.config.types import FieldError, Section


class AutoscalingConfig(Section):
    """``mlstack:autoscaling``: Application Auto Scaling of the primary variant's instances,
    target tracking on invocations per instance. Ignored by serverless endpoints."""

    enabled: bool = True
    """Scale the instance count with traffic. Default true."""
    min_instances: Annotated[int, Field(ge=1, le=100)] = 1
    """Fewest instances (1-100). Default 1; production needs at least 2."""
    max_instances: Annotated[int, Field(ge=1, le=100)] = 4
    """Most instances (1-100). Default 4."""
    target_invocations_per_instance: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    """Invocations per instance per minute that scaling keeps the fleet at. Default 100."""
    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Seconds after a scale-in before the next one (0-3600). Default 300."""
    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one (0-3600). Default 60."""

    @model_validator(mode="after")
    def _min_below_max(self) -> AutoscalingConfig:
        if self.min_instances > self.max_instances:
            raise FieldError(
                "minInstances",
                self.min_instances,
                f"at most maxInstances ({self.max_instances})",
            )
        return self
