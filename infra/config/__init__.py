"""Typed, validated stack configuration: the only module that reads ``pulumi.Config``.

Every key the kit understands is declared as a frozen pydantic model: the sections live in
``infra/config/`` (one module each), the stack as a whole and its cross-section rules
here. Raw stack config
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
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from infra.config.base import FieldError, Section
from infra.config.eks import (
    EksConfig,
    KubernetesServingConfig,
    NatMode,
    NetworkConfig,
)
from infra.config.monitoring import (
    MonitoringConfig,
)
from infra.config.policy import PolicyConfig, PolicyEnforcement
from infra.config.registry import RegistryConfig
from infra.config.rollout import RollbackMetric, RolloutPolicy, RolloutStrategy
from infra.config.sagemaker import (
    AutoscalingConfig,
    EndpointMode,
    ModelConfig,
    SageMakerConfig,
)

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


# ---------------------------------------------------------------------------------------------
# Sections (defined in infra/config/, re-exported here)
# ---------------------------------------------------------------------------------------------


class StackConfig(Section):
    """Everything a stack declares, validated. Build it with :func:`load_stack_config`."""

    stack: str
    environment: Environment
    region: str
    owner: str
    tags: dict[str, str] = {}
    registry: RegistryConfig = RegistryConfig()
    model: ModelConfig = ModelConfig()
    sagemaker: SageMakerConfig = SageMakerConfig()
    rollout: RolloutPolicy = RolloutPolicy()
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    policy: PolicyConfig = PolicyConfig()
    network: NetworkConfig = NetworkConfig()
    eks: EksConfig = EksConfig()
    kubernetes: KubernetesServingConfig = KubernetesServingConfig()

    @model_validator(mode="after")
    def _production_minimums(self) -> StackConfig:
        if self.environment is not Environment.PRODUCTION:
            return self
        if self.sagemaker.enabled and self.sagemaker.mode is EndpointMode.SERVERLESS:
            raise FieldError(
                "sagemaker.mode", "serverless", "production runs provisioned instances"
            )
        if self.sagemaker.enabled and self.sagemaker.instance_count < 2:
            raise FieldError(
                "sagemaker.instanceCount",
                self.sagemaker.instance_count,
                "production needs at least 2 instances to survive an AZ outage",
            )
        if self.rollout.strategy is RolloutStrategy.ALL_AT_ONCE:
            raise FieldError(
                "rollout.strategy",
                self.rollout.strategy.value,
                "production needs canary, linear or rolling with rollback alarms",
            )
        metrics = {alarm.metric for alarm in self.rollout.rollback_alarms}
        latency = {RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE}
        if len(metrics) < 2 or not metrics & latency or RollbackMetric.ERRORS_5XX not in metrics:
            raise FieldError(
                "rollout.rollbackAlarms",
                sorted(m.value for m in metrics),
                "production rolls back on at least a latency metric and errors-5xx",
            )
        if self.autoscaling.enabled and self.autoscaling.min_instances < 2:
            raise FieldError(
                "autoscaling.minInstances",
                self.autoscaling.min_instances,
                "production keeps at least 2 instances",
            )
        if self.policy.enforcement is not PolicyEnforcement.MANDATORY:
            raise FieldError(
                "policy.enforcement",
                self.policy.enforcement.value,
                "production enforces the policy pack: use mandatory",
            )
        return self

    @model_validator(mode="after")
    def _eks_path_rules(self) -> StackConfig:
        """The EKS path: cluster needs the VPC, admins and a pinned image; production
        spreads over three AZs without a single NAT and pins every image by digest."""
        eks, serving, network = self.eks, self.kubernetes, self.network
        if eks.enabled and not network.enabled:
            raise FieldError("eks.enabled", True, "the cluster runs in the VPC: enable network")
        if eks.enabled and not eks.admin_principal_arns:
            raise FieldError(
                "eks.adminPrincipalArns", [], "name 1-20 IAM principals, including the deployer"
            )
        if eks.enabled and serving.image_tag is None and serving.image_digest is None:
            raise FieldError(
                "kubernetes.imageDigest", None, "pin the serving image: set imageDigest or imageTag"
            )
        if self.environment is not Environment.PRODUCTION:
            return self
        if network.enabled and network.availability_zones < 3:
            raise FieldError(
                "network.availabilityZones",
                network.availability_zones,
                "production spreads over 3 AZs",
            )
        if network.enabled and network.nat is NatMode.SINGLE:
            raise FieldError(
                "network.nat", "single", "production needs per-az (or none): no single-AZ NAT"
            )
        if not eks.enabled:
            return self
        for key in ("image_digest", "model_fetcher_image_digest"):
            if getattr(serving, key) is None:
                raise FieldError(
                    f"kubernetes.{to_camel(key)}", None, "production pins images by digest"
                )
        if serving.min_replicas < 2:
            raise FieldError(
                "kubernetes.minReplicas", serving.min_replicas, "production keeps at least 2 pods"
            )
        if eks.node_group.min_size < 2:
            raise FieldError(
                "eks.nodeGroup.minSize",
                eks.node_group.min_size,
                "production keeps at least 2 nodes",
            )
        return self

    @model_validator(mode="after")
    def _cross_section_rules(self) -> StackConfig:
        sagemaker = self.sagemaker
        serverless = sagemaker.mode is EndpointMode.SERVERLESS
        if sagemaker.enabled and not self.model.has_source:
            raise FieldError(
                "model.packageVersion",
                None,
                "the endpoint needs a model: set packageVersion (or imageUri)",
            )
        if self.rollout.strategy is RolloutStrategy.ROLLING and (
            serverless or sagemaker.ab_variants
        ):
            raise FieldError(
                "rollout.strategy",
                "rolling",
                "rolling updates are not for serverless or multi-variant endpoints",
            )
        if serverless and self.model.shadow is not None:
            raise FieldError(
                "model.shadow", "set", "serverless endpoints cannot run a shadow variant"
            )
        scaling = self.autoscaling
        in_range = scaling.min_instances <= sagemaker.instance_count <= scaling.max_instances
        if sagemaker.enabled and not serverless and scaling.enabled and not in_range:
            raise FieldError(
                "sagemaker.instanceCount",
                sagemaker.instance_count,
                f"within autoscaling {scaling.min_instances}-{scaling.max_instances}",
            )
        if self.monitoring.drift.enabled and not (
            sagemaker.enabled and sagemaker.data_capture.enabled
        ):
            raise FieldError(
                "monitoring.drift.enabled",
                True,
                "drift monitoring reads captured data: enable sagemaker.dataCapture",
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def endpoint_name(self) -> str:
        """The SageMaker endpoint's name: ``sagemaker.endpointName`` or ``mlstack-<stack>``."""
        return self.sagemaker.endpoint_name or f"{PROJECT}-{self.stack}"

    @property
    def model_package_group_name(self) -> str:
        """The group the served versions come from (``model`` first, then ``registry``)."""
        return self.model.package_group_name or self.registry.model_package_group_name

    def resource_tags(self) -> dict[str, str]:
        """Tags applied to every taggable resource: the stack's own plus kit defaults."""
        return {
            "mlstack:stack": self.stack,
            "mlstack:environment": self.environment.value,
            "owner": self.owner,
            **self.tags,
        }


# Object sections: the config key (camelCase, without namespace) and its model.
OBJECT_SECTIONS: dict[str, type[Section]] = {
    "tags": Section,  # placeholder: validated as a plain string map below
    "registry": RegistryConfig,
    "sagemaker": SageMakerConfig,
    "rollout": RolloutPolicy,
    "model": ModelConfig,
    "autoscaling": AutoscalingConfig,
    "monitoring": MonitoringConfig,
    "policy": PolicyConfig,
    "network": NetworkConfig,
    "eks": EksConfig,
    "kubernetes": KubernetesServingConfig,
}
SCALAR_KEYS = ("environment", "owner")
KNOWN_KEYS = (*SCALAR_KEYS, *OBJECT_SECTIONS)

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


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
    if isinstance(ctx_error, FieldError):
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


def _validate_section(stack: str, key: str, model: type[Section], raw: str | None) -> Any:
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
