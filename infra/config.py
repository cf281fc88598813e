"""Typed, validated stack configuration: the only module that reads ``pulumi.Config``.

Every key the kit understands is declared here as a frozen pydantic model. Raw stack config
(``stacks/Pulumi.<stack>.yaml``) is validated before any resource is declared: unknown keys
(with a "did you mean" hint), wrong types, values outside AWS limits and cross-field rules all
raise :class:`ConfigError`, whose message names the stack file, the key path, the bad value
and what is allowed, in at most three lines.

Keys in YAML are camelCase (``stepPercent``); the Python attributes are snake_case.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

PROJECT = "mlstack"
"""The project name and config namespace: keys without a namespace belong to it."""

STACK_CONFIG_DIR = "stacks"


class ConfigError(pulumi.RunError):
    """A stack config value is missing or wrong. The message is short and user-facing.

    A ``RunError``, so that ``pulumi up`` prints the message without a traceback."""


class Environment(str, Enum):
    """How strict a stack is. ``production`` turns on the production minimums."""

    STAGING = "staging"
    PRODUCTION = "production"


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


class PolicyEnforcement(str, Enum):
    """How the policy pack treats a violated rule on this stack."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class _Section(BaseModel):
    """Base for every config object: frozen, camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
    )


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------


class RegistryConfig(_Section):
    """``mlstack:registry``: the image repository, model registry and artifacts bucket."""

    model_package_group_name: Annotated[
        str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    ] = "mlstack-models"
    """SageMaker model package group (the model registry), 1-63 alphanumerics and hyphens.
    Default mlstack-models."""

    keep_tagged_images: Annotated[int, Field(ge=1, le=1000)] = 50
    """Release images kept in ECR; older ones are expired by the lifecycle policy. Default 50."""
    untagged_image_expiry_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Days before untagged images (build leftovers) are expired. Default 7."""
    noncurrent_artifact_expiry_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """Days an overwritten model artifact version is kept in S3. Default 90."""
    kms_deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 30
    """Waiting period before a deleted KMS key is destroyed (AWS allows 7-30). Default 30."""


INSTANCE_TYPE_PATTERN = r"^ml\.[a-z0-9]+\.(nano|micro|small|medium|large|xlarge|[0-9]+xlarge)$"


class SageMakerConfig(_Section):
    """``mlstack:sagemaker``: sizing of the SageMaker real-time endpoint."""

    enabled: bool = True
    """Declare the SageMaker endpoint for this stack. Default true."""
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE_PATTERN)] = "ml.m5.large"
    """Instance type of the production variant, e.g. ``ml.m5.large``. Default ml.m5.large."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Initial instance count of the production variant (1-100). Default 1."""


class RollbackAlarm(_Section):
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


class RolloutPolicy(_Section):
    """``mlstack:rollout``: how a new model version goes live, compiled by ``infra/rollout.py``."""

    strategy: RolloutStrategy = RolloutStrategy.ALL_AT_ONCE
    """all-at-once, canary, linear or rolling. Default all-at-once."""
    step_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    """Canary size (1-50) or linear step (10-50), in percent of the fleet. Required for both."""
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
                raise _FieldError("stepPercent", step, "a canary is 1-50 percent of the fleet")
        elif self.strategy is RolloutStrategy.LINEAR:
            if step is None or not 10 <= step <= 50:
                raise _FieldError("stepPercent", step, "a linear step is 10-50 percent")
        elif step is not None and self.strategy is RolloutStrategy.ALL_AT_ONCE:
            raise _FieldError("stepPercent", step, "all-at-once shifts 100%: remove stepPercent")
        needs_alarms = self.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR)
        if needs_alarms and not self.rollback_alarms:
            raise _FieldError(
                "rollbackAlarms",
                [],
                f"a {self.strategy.value} rollout needs 1-10 rollback alarms to stop a bad version",
            )
        metrics = [alarm.metric for alarm in self.rollback_alarms]
        duplicates = sorted({m.value for m in metrics if metrics.count(m) > 1})
        if duplicates:
            raise _FieldError("rollbackAlarms", duplicates, "each metric may appear once")
        return self


class PolicyConfig(_Section):
    """``mlstack:policy``: how the policy pack enforces its rules on this stack."""

    enforcement: PolicyEnforcement = PolicyEnforcement.ADVISORY
    """mandatory (violations fail the plan) or advisory. Production must be mandatory."""


class StackConfig(_Section):
    """Everything a stack declares, validated. Build it with :func:`load_stack_config`."""

    stack: str
    environment: Environment
    region: str
    owner: str
    tags: dict[str, str] = {}
    registry: RegistryConfig = RegistryConfig()
    sagemaker: SageMakerConfig = SageMakerConfig()
    rollout: RolloutPolicy = RolloutPolicy()
    policy: PolicyConfig = PolicyConfig()

    @model_validator(mode="after")
    def _production_minimums(self) -> StackConfig:
        if self.environment is not Environment.PRODUCTION:
            return self
        if self.sagemaker.enabled and self.sagemaker.instance_count < 2:
            raise _FieldError(
                "sagemaker.instanceCount",
                self.sagemaker.instance_count,
                "production needs at least 2 instances to survive an AZ outage",
            )
        if self.rollout.strategy is RolloutStrategy.ALL_AT_ONCE:
            raise _FieldError(
                "rollout.strategy",
                self.rollout.strategy.value,
                "production needs canary, linear or rolling with rollback alarms",
            )
        if self.policy.enforcement is not PolicyEnforcement.MANDATORY:
            raise _FieldError(
                "policy.enforcement",
                self.policy.enforcement.value,
                "production enforces the policy pack: use mandatory",
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def resource_tags(self) -> dict[str, str]:
        """Tags applied to every taggable resource: the stack's own plus kit defaults."""
        return {
            "mlstack:stack": self.stack,
            "mlstack:environment": self.environment.value,
            "owner": self.owner,
            **self.tags,
        }


# Object sections: the config key (camelCase, without namespace) and its model.
OBJECT_SECTIONS: dict[str, type[_Section]] = {
    "tags": _Section,  # placeholder: validated as a plain string map below
    "registry": RegistryConfig,
    "sagemaker": SageMakerConfig,
    "rollout": RolloutPolicy,
    "policy": PolicyConfig,
}
SCALAR_KEYS = ("environment", "owner")
KNOWN_KEYS = (*SCALAR_KEYS, *OBJECT_SECTIONS)

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class _FieldError(ValueError):
    """Raised inside validators to point at a key other than the one being validated."""

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.path = path
        self.value = value
        self.allowed = allowed


def stack_file(stack: str) -> str:
    """The stack file path as users see it, relative to the project root."""
    return f"{STACK_CONFIG_DIR}/Pulumi.{stack}.yaml"


def _render(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _config_error(stack: str, key_path: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{stack_file(stack)}: {PROJECT}:{key_path} = {_render(value)}\n  {allowed}")


def _aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the last element of ``loc`` (used for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = next(
            (f for n, f in current.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _translate(
    stack: str, section: str, model: type[BaseModel], err: ValidationError
) -> ConfigError:
    """Turn the first pydantic error into the kit's three-line message."""
    first = err.errors(include_url=False)[0]
    ctx_error = (first.get("ctx") or {}).get("error")
    loc = tuple(first["loc"])
    parts = [section] if section else []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    path = ".".join(parts)
    if isinstance(ctx_error, _FieldError):
        target = ".".join(p for p in (path, ctx_error.path) if p)
        return _config_error(stack, target, ctx_error.value, ctx_error.allowed)
    value = first.get("input")
    if first["type"] == "extra_forbidden":
        owner = _model_at(model, loc)
        known = _aliases(owner) if owner else []
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        return ConfigError(
            f"{stack_file(stack)}: {PROJECT}:{path}: unknown key\n"
            f"  {hint}allowed keys: {', '.join(known)}"
        )
    message = str(first["msg"]).removeprefix("Value error, ")
    return _config_error(stack, path, value, message)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _all_project_keys() -> list[str]:
    """Every config key set for this program in the project namespace, without the prefix.

    The Python language host passes config as ``PULUMI_CONFIG``; the offline plan sets it
    with ``pulumi.runtime.set_all_config``. Both are read so typos are found either way.
    """
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    return sorted(k[len(prefix) :] for k in keys if k.startswith(prefix))


def _parse_object(stack: str, key: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # a plain string: the model reports the wrong type


def _validate_section(stack: str, key: str, model: type[_Section], raw: str | None) -> Any:
    if raw is None:
        return model()
    data = _parse_object(stack, key, raw)
    if not isinstance(data, Mapping):
        raise _config_error(stack, key, data, "expected an object (a YAML mapping)")
    try:
        return model.model_validate_json(json.dumps(data))
    except ValidationError as err:
        raise _translate(stack, key, model, err) from None


def _validate_tags(stack: str, raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    data = _parse_object(stack, "tags", raw)
    if not isinstance(data, Mapping):
        raise _config_error(stack, "tags", data, "expected a mapping of tag name to string")
    for name, value in data.items():
        if not isinstance(value, str):
            raise _config_error(stack, f"tags.{name}", value, "tag values are strings")
        if len(name) > 128 or len(value) > 256 or name.lower().startswith("aws:"):
            raise _config_error(
                stack, f"tags.{name}", value, "AWS tags: key 1-128 chars not 'aws:', value <=256"
            )
    return dict(data)


def build_stack_config(
    stack: str, raw: Mapping[str, str | None], region: str | None
) -> StackConfig:
    """Validate raw config values (key without namespace -> the CLI's string encoding).

    Separated from :func:`load_stack_config` so tests and tools can validate a stack file
    without a Pulumi runtime.
    """
    unknown = [k for k in raw if k not in KNOWN_KEYS and raw[k] is not None]
    if unknown:
        key = unknown[0]
        guess = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        hint = f"did you mean '{PROJECT}:{guess[0]}'? " if guess else ""
        raise ConfigError(
            f"{stack_file(stack)}: {PROJECT}:{key}: unknown key\n"
            f"  {hint}allowed keys: {', '.join(KNOWN_KEYS)}"
        )
    if not region:
        raise ConfigError(
            f"{stack_file(stack)}: aws:region is not set\n  set it, e.g. aws:region: us-east-1"
        )
    environment = raw.get("environment")
    allowed_envs = ", ".join(e.value for e in Environment)
    if environment not in {e.value for e in Environment}:
        raise _config_error(stack, "environment", environment, f"one of: {allowed_envs}")
    owner = raw.get("owner")
    if not owner or not re.fullmatch(r"[A-Za-z0-9 ._:/=+@-]{1,128}", owner):
        raise _config_error(stack, "owner", owner, "the owning team, 1-128 tag-safe characters")
    sections = {
        key: _validate_section(stack, key, model, raw.get(key))
        for key, model in OBJECT_SECTIONS.items()
        if key != "tags"
    }
    try:
        return StackConfig(
            stack=stack,
            environment=Environment(environment),
            region=region,
            owner=owner,
            tags=_validate_tags(stack, raw.get("tags")),
            **sections,
        )
    except ValidationError as err:
        raise _translate(stack, "", StackConfig, err) from None


def load_stack_config() -> StackConfig:
    """Read and validate the current stack's config through ``pulumi.Config``.

    Raises :class:`ConfigError` with a short message on any problem.
    """
    stack = pulumi.get_stack()
    config = pulumi.Config(PROJECT)
    raw = {key: config.get(key) for key in _all_project_keys()}
    region = pulumi.Config("aws").get("region")
    return build_stack_config(stack, raw, region)
