"""``mlstack:models``, ``mlstack:modelDefaults`` and ``mlstack:fleets``: many models per stack.

``mlstack:models`` maps a model name (a DNS label: it names the model's resources) to that
model's settings, :class:`ModelSettings`: every field of ``mlstack:model`` plus the sections
one model is sized, rolled out and watched by (``sagemaker``, ``autoscaling``, ``rollout``,
``alarms``, ``drift``, ``kubernetes``), reusing the single-model sections' classes.

``mlstack:modelDefaults`` holds stack-wide defaults of the same shape. A model's settings are
the defaults deep-merged with its own entry (:func:`deep_merge`): mappings merge key by key
at every depth, anything else (numbers, strings, lists such as ``rollout.rollbackAlarms``)
is replaced whole by the model's value.

``mlstack:fleets`` maps a fleet name to a shared SageMaker endpoint (:class:`FleetConfig`);
a model with ``fleet.name`` runs on it as an inference component with its own copies,
compute reservation and scaling instead of on an endpoint of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any

from pydantic import Field, field_validator

from infra.config.autoscaling import AutoscalingConfig
from infra.config.kubernetes import KubernetesWorkloadConfig
from infra.config.model import ModelConfig
from infra.config.monitoring import AlarmThresholds, DriftConfig
from infra.config.rollout import RolloutPolicy
from infra.config.sagemaker import DataCaptureConfig, SageMakerConfig
from infra.config.types import DnsLabel, SageMakerInstanceType, SageMakerName, Section


class ServingTarget(str, Enum):
    """Where a model is served: a SageMaker endpoint, the EKS cluster, or both."""

    SAGEMAKER = "sagemaker"
    EKS = "eks"


class FleetShareConfig(Section):
    """``mlstack:models.<name>.fleet``: the model's share of a shared fleet, one SageMaker
    inference component. Its copies scale with ``autoscaling`` (instances read as copies)."""

    name: DnsLabel
    """The fleet (a key of ``mlstack:fleets``) the model runs on. Required."""
    copies: Annotated[int, Field(ge=1, le=100)] = 1
    """Copies of the model at creation (each copy reserves the compute below). Default 1."""
    cpu_cores: Annotated[float, Field(ge=0.25, le=192)] = 1.0
    """CPU cores reserved per copy (0.25-192). Default 1."""
    memory_mb: Annotated[int, Field(ge=128, le=1_048_576)] = 1024
    """Memory reserved per copy, in MB (at least 128). Default 1024."""


class FleetConfig(Section):
    """``mlstack:fleets.<name>``: one SageMaker endpoint whose instances host several small
    models as inference components.

    Rollout on a shared fleet: a model's new version replaces its inference component's
    copies in rolling batches (``rollout.stepPercent`` of its copies, ``bakeSeconds`` apart)
    and SageMaker rolls back by itself when one of the model's rollback alarms fires; the
    other models on the fleet are not touched. Canary and linear traffic shifting are
    endpoint-level in SageMaker, so models on a fleet roll with ``rolling`` (or
    ``all-at-once`` outside production). A change of the fleet itself (instance type or
    count) updates the endpoint configuration of every model on it at once.
    """

    endpoint_name: SageMakerName | None = None
    """Endpoint name (stable). Default ``mlstack-<stack>-<fleet>``."""
    instance_type: SageMakerInstanceType = "ml.m5.large"
    """Instance type of the fleet. Default ml.m5.large."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 2
    """Instances at creation (1-100). Default 2; production needs at least 2."""
    min_instances: Annotated[int, Field(ge=1, le=100)] = 1
    """Fewest instances SageMaker's managed instance scaling keeps. Default 1."""
    max_instances: Annotated[int, Field(ge=1, le=100)] = 4
    """Most instances managed instance scaling adds for the models' copies. Default 4."""
    variant_name: SageMakerName = "AllTraffic"
    """Name of the fleet's variant; never change it. Default AllTraffic."""
    data_capture: DataCaptureConfig = DataCaptureConfig()
    """Invocation capture of every model on the fleet (endpoint-wide in SageMaker)."""
    drift: DriftConfig = DriftConfig()
    """Data-quality schedule on the fleet's captured data (capture is endpoint-wide, so the
    baseline covers the fleet's traffic). Default off."""


class ModelSettings(ModelConfig):
    """``mlstack:models.<name>`` (and ``mlstack:modelDefaults``): one model, its serving
    targets, sizing, rollout and alarms. Every field of ``mlstack:model`` is a field here."""

    targets: Annotated[list[ServingTarget], Field(min_length=1, max_length=2)] = [
        ServingTarget.SAGEMAKER
    ]
    """Where the model is served: sagemaker, eks or both. Default [sagemaker]."""
    legacy_names: bool = False
    """This model took over a single-model stack's keys (``mlstack:model`` and its
    sections): its resources keep their single-model names, so no URN or physical name
    changes (``mlstack model migrate`` sets it). At most one model. Default false."""
    fleet: FleetShareConfig | None = None
    """Run on a shared fleet as an inference component instead of a dedicated endpoint.
    Default none (a dedicated endpoint)."""
    sagemaker: SageMakerConfig = SageMakerConfig()
    """The model's SageMaker endpoint (``enabled`` is decided by ``targets``; on a fleet,
    sizing and capture are the fleet's). Default endpoint name ``mlstack-<stack>-<name>``."""
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    """Instance autoscaling of the model's endpoint (on a fleet: of its copies)."""
    rollout: RolloutPolicy = RolloutPolicy()
    """How a new version of this model goes live."""
    alarms: AlarmThresholds = AlarmThresholds()
    """The model's operational alarm thresholds (``mlstack:monitoring.alarms`` of one model)."""
    drift: DriftConfig = DriftConfig()
    """The model's data-quality schedule (``mlstack:monitoring.drift`` of one model)."""
    kubernetes: KubernetesWorkloadConfig = KubernetesWorkloadConfig()
    """The model's workload on EKS. Default namespace: the model's name."""

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, value: list[ServingTarget]) -> list[ServingTarget]:
        if len(set(value)) != len(value):
            raise ValueError("each of sagemaker and eks at most once")
        return value

    @property
    def on_sagemaker(self) -> bool:
        return ServingTarget.SAGEMAKER in self.targets

    @property
    def on_eks(self) -> bool:
        return ServingTarget.EKS in self.targets


def loop_name(name: str, legacy_names: bool, package_group_name: str) -> str:
    """The name a model's loop goes by (its pipelines ``<name>-retraining`` and
    ``<name>-batch``, their resources and definition files): the model's name, or for a model
    with the single-model names, its model package group (as a single-model stack names it)."""
    return package_group_name if legacy_names else name


def deep_merge(defaults: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``defaults``: mappings merge key by key at every depth; any
    other value (lists included) in ``override`` replaces the default whole."""
    merged: dict[str, Any] = dict(defaults)
    for key, value in override.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(base, value)
        else:
            merged[key] = value
    return merged


def resolve_names(stack: str, name: str, merged: Mapping[str, Any], project: str) -> dict[str, Any]:
    """The per-model defaults that depend on the model's name, filled into its merged raw
    settings so the resolved document shows them: the endpoint name and the namespace.

    A ``legacyNames`` model keeps the single-model defaults (``mlstack-<stack>``,
    ``mlstack-serving``)."""
    legacy = merged.get("legacyNames") is True
    sagemaker = (
        dict(merged.get("sagemaker") or {})
        if isinstance(merged.get("sagemaker"), Mapping)
        else merged.get("sagemaker")
    )
    kubernetes = (
        dict(merged.get("kubernetes") or {})
        if isinstance(merged.get("kubernetes"), Mapping)
        else merged.get("kubernetes")
    )
    resolved = dict(merged)
    if isinstance(sagemaker, dict) and "endpointName" not in sagemaker:
        sagemaker["endpointName"] = f"{project}-{stack}" if legacy else f"{project}-{stack}-{name}"
        resolved["sagemaker"] = sagemaker
    if isinstance(kubernetes, dict) and "namespace" not in kubernetes and not legacy:
        kubernetes["namespace"] = name
        resolved["kubernetes"] = kubernetes
    return resolved
