"""The root of a stack's config, and the rules that span its sections.

Section rules live in each section's module; what needs two sections or the environment
(production minimums, the EKS path, the account) lives here. Every rule reports a
:class:`~infra.config.types.FieldError`; all of them are collected, so a user sees every
problem of a file at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from infra.config.autoscaling import AutoscalingConfig
from infra.config.eks import EksConfig
from infra.config.errors import PROJECT
from infra.config.kubernetes import (
    WORKLOAD_FIELDS,
    KubernetesServingConfig,
    KubernetesWorkloadConfig,
)
from infra.config.model import ModelConfig
from infra.config.models import FleetConfig, ModelSettings, ServingTarget, loop_name
from infra.config.monitoring import MonitoringConfig
from infra.config.network import NatMode, NetworkConfig
from infra.config.policy import PolicyConfig, PolicyEnforcement
from infra.config.registry import RegistryConfig
from infra.config.rollout import RollbackMetric, RolloutPolicy, RolloutStrategy
from infra.config.sagemaker import EndpointMode, SageMakerConfig
from infra.config.types import (
    MAX_TAGS,
    AccountId,
    DnsLabel,
    FieldError,
    Region,
    Section,
    raise_all,
    tag_problem,
)


class Environment(str, Enum):
    """How strict a stack is. ``production`` turns on the production minimums."""

    STAGING = "staging"
    PRODUCTION = "production"


PRODUCTION_MIN_BAKE_SECONDS = 300
"""Production bakes each step this long: alarms need minutes of traffic to see a bad version."""
PRODUCTION_MIN_TERMINATION_WAIT_SECONDS = 300
"""Production keeps the old fleet this long after the shift, so a late rollback is instant."""
PRODUCTION_MAX_5XX_ROLLBACK_PERCENT = 5.0
"""Production rolls back at or below this 5xx rate, in percent of invocations."""
PRODUCTION_MAX_LATENCY_ROLLBACK_FACTOR = 3
"""A latency rollback threshold is at most this many times the operational alarm's."""

LATENCY_METRICS = (RollbackMetric.LATENCY_P99, RollbackMetric.LATENCY_AVERAGE)
ERROR_METRICS = (RollbackMetric.ERRORS_5XX,)

OWNER_CHARACTERS = "1-128 letters, digits, spaces and _ . : / = + - @"


class StackConfig(Section):
    """Everything a stack declares, validated. Build it with ``build_stack_config``."""

    stack: str
    """The stack's name (from the file name, not a key)."""
    environment: Environment
    """staging or production; production turns on the production minimums. Required."""
    region: Region
    """AWS region of every resource in the stack (aws:region). Required."""
    owner: str
    """Owning team, tagged on every resource as owner and paged by the alarms. Required."""
    account_id: AccountId | None = None
    """The AWS account the stack deploys to, 12 digits, quoted. Required when eks is enabled
    (admin principals must be in it). Default none."""
    tags: dict[str, str] = {}
    """Extra tags on every taggable resource; at most 47, the kit adds 3 of its own. An
    integer value is read as a string. Default none."""
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
    models: dict[DnsLabel, ModelSettings] = {}
    """Many models per stack: model name -> its settings, each merged over modelDefaults
    (see ``infra/config/models.py``). Default none: the stack serves ``mlstack:model``."""
    model_defaults: ModelSettings = ModelSettings()
    """Stack-wide defaults of every model in ``mlstack:models``. Default the kit's."""
    fleets: dict[DnsLabel, FleetConfig] = {}
    """Shared SageMaker endpoints small models run on as inference components. Default
    none."""

    @field_validator("owner", mode="before")
    @classmethod
    def _owner_in_words(cls, value: Any) -> Any:
        # The owner is a tag value on every resource: the tag rules apply, plus a length.
        if isinstance(value, str) and (not 1 <= len(value) <= 128 or tag_problem("owner", value)):
            raise ValueError(f"the owning team: {OWNER_CHARACTERS}")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _integer_tag_values(cls, value: Any) -> Any:
        # YAML reads `cost-center: 1234` as a number; AWS stores every tag value as text.
        if isinstance(value, dict):
            return {
                k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> StackConfig:
        if not (info.context or {}).get("sections_valid", True):
            return self
        if self.models:
            raise_all([*self._models_rules(), *self._tag_rules()])
            return self
        raise_all(
            [
                *self._production_rules(),
                *self._rollback_rules(),
                *self._eks_path_rules(),
                *self._cross_section_rules(),
                *self._tag_rules(),
            ]
        )
        return self

    def _model_rules(self) -> Iterator[FieldError]:
        """The single-model rules, for one model (or the one model of a single-model stack)."""
        yield from self._production_rules()
        yield from self._rollback_rules()
        yield from self._eks_path_rules()
        yield from self._cross_section_rules()

    def _models_rules(self) -> Iterator[FieldError]:
        """Every single-model rule applied to each model of ``mlstack:models`` (its errors
        name the model), then the rules of many models: one legacyNames model, fleets that
        exist, what an inference component cannot do."""
        legacy = [name for name, settings in self.models.items() if settings.legacy_names]
        if len(legacy) > 1:
            yield FieldError(
                f"models.{legacy[1]}.legacyNames", True, f"only one model (already {legacy[0]})"
            )
        registering: dict[str, str] = {}
        for served in self.served_models():
            name, settings = served.name, served.settings
            group = served.view.model_package_group_name
            if settings.retraining.enabled and group in registering:
                yield FieldError(
                    f"models.{name}.packageGroupName",
                    group,
                    f"a group of its own: {registering[group]} registers its retraining "
                    "candidates there too, and versions of two models would mix",
                )
            elif settings.retraining.enabled:
                registering[group] = name
            if settings.on_eks and not self.eks.enabled:
                yield FieldError(
                    f"models.{name}.targets", "eks", "enable mlstack:eks to serve on EKS"
                )
            if "enabled" in settings.sagemaker.model_fields_set:
                yield FieldError(
                    f"models.{name}.sagemaker.enabled",
                    settings.sagemaker.enabled,
                    "targets decides where a model is served: remove it",
                )
            if settings.fleet is not None:
                yield from self._fleet_rules(served)
            for error in served.view._model_rules():
                yield FieldError(served.key_path(error.path), error.value, error.allowed)

    def _fleet_rules(self, served: ServedModel) -> Iterator[FieldError]:
        settings, path = served.settings, f"models.{served.name}"
        assert settings.fleet is not None
        if settings.fleet.name not in self.fleets:
            known = ", ".join(sorted(self.fleets)) or "none declared"
            yield FieldError(
                f"{path}.fleet.name", settings.fleet.name, f"a key of mlstack:fleets ({known})"
            )
        if not settings.on_sagemaker:
            yield FieldError(f"{path}.targets", "eks", "a model on a fleet is served by SageMaker")
        if settings.rollout.strategy in (RolloutStrategy.CANARY, RolloutStrategy.LINEAR):
            yield FieldError(
                f"{path}.rollout.strategy",
                settings.rollout.strategy.value,
                "a model on a shared fleet rolls its inference component's copies: use rolling "
                "(canary and linear shift a whole endpoint's traffic)",
            )
        if settings.sagemaker.ab_variants or settings.shadow is not None:
            yield FieldError(
                f"{path}.fleet",
                settings.fleet.name,
                "a model on a shared fleet has no A/B or shadow variants: give it its own endpoint",
            )
        if settings.sagemaker.mode is EndpointMode.SERVERLESS:
            yield FieldError(
                f"{path}.sagemaker.mode", "serverless", "a shared fleet runs instances"
            )
        if settings.drift.enabled:
            yield FieldError(
                f"{path}.drift.enabled",
                True,
                f"capture is the fleet's: set mlstack:fleets.{settings.fleet.name}.drift",
            )

    def served_models(self) -> list[ServedModel]:
        """Every model the stack serves, in the file's order; a single-model stack serves
        one, named by :meth:`single_model_name`, with the single-model resource names."""
        if not self.models:
            return [
                ServedModel(
                    name=self.single_model_name,
                    settings=self.single_model_settings(),
                    view=self,
                    legacy_names=True,
                    tags=self.resource_tags(),
                    single=True,
                )
            ]
        return [self._served(name, settings) for name, settings in self.models.items()]

    def _served(self, name: str, settings: ModelSettings) -> ServedModel:
        fleet = self.fleets.get(settings.fleet.name) if settings.fleet is not None else None
        sagemaker = settings.sagemaker.model_copy(update={"enabled": settings.on_sagemaker})
        if fleet is not None:
            sagemaker = sagemaker.model_copy(
                update={
                    "endpoint_name": fleet.endpoint_name,
                    "instance_type": fleet.instance_type,
                    "instance_count": fleet.instance_count,
                    "variant_name": fleet.variant_name,
                    "data_capture": fleet.data_capture,
                }
            )
        kubernetes = KubernetesServingConfig.model_construct(
            _fields_set=set(self.kubernetes.model_fields_set)
            | settings.kubernetes.model_fields_set,
            **{
                **{k: getattr(self.kubernetes, k) for k in KubernetesServingConfig.model_fields},
                **{k: getattr(settings.kubernetes, k) for k in WORKLOAD_FIELDS},
            },
        )
        model_fields = {k: getattr(settings, k) for k in ModelConfig.model_fields}
        view = self.model_copy(
            update={
                "models": {},
                "model": ModelConfig.model_construct(**model_fields),
                "sagemaker": sagemaker,
                "rollout": settings.rollout,
                "autoscaling": settings.autoscaling,
                "monitoring": self.monitoring.model_copy(
                    update={"alarms": settings.alarms, "drift": settings.drift}
                ),
                "kubernetes": kubernetes,
                "eks": self.eks.model_copy(
                    update={"enabled": self.eks.enabled and settings.on_eks}
                ),
            }
        )
        return ServedModel(
            name=name,
            settings=settings,
            view=view,
            legacy_names=settings.legacy_names,
            # A model that took over a single-model stack keeps that stack's tags too: some
            # resources (Model Monitor job definitions) are replaced when their tags change.
            tags=self.resource_tags()
            if settings.legacy_names
            else {**self.resource_tags(), MODEL_TAG: name},
            fleet_name=settings.fleet.name if settings.fleet is not None else None,
            fleet=fleet,
        )

    @property
    def single_model_name(self) -> str:
        """The name a single-model stack's model goes by (in the resolved document and as
        ``mlstack model migrate``'s default): the model package group's, in lower case."""
        name = self.model_package_group_name.lower()
        return name if _DNS_LABEL.fullmatch(name) else "model"

    def single_model_settings(self) -> ModelSettings:
        """A single-model stack's model in the shape of one ``mlstack:models`` entry."""
        targets = [
            target
            for target, on in (
                (ServingTarget.SAGEMAKER, self.sagemaker.enabled),
                (ServingTarget.EKS, self.eks.enabled),
            )
            if on
        ]
        return ModelSettings.model_construct(
            **{k: getattr(self.model, k) for k in ModelConfig.model_fields},
            targets=targets,
            legacy_names=True,
            fleet=None,
            sagemaker=self.sagemaker.model_copy(update={"endpoint_name": self.endpoint_name}),
            autoscaling=self.autoscaling,
            rollout=self.rollout,
            alarms=self.monitoring.alarms,
            drift=self.monitoring.drift,
            kubernetes=KubernetesWorkloadConfig.model_construct(
                **{k: getattr(self.kubernetes, k) for k in WORKLOAD_FIELDS}
            ),
        )

    def _production_rules(self) -> Iterator[FieldError]:
        if not self.is_production:
            return
        sagemaker = self.sagemaker
        if sagemaker.enabled and sagemaker.mode is EndpointMode.SERVERLESS:
            yield FieldError(
                "sagemaker.mode", "serverless", "production runs provisioned instances"
            )
        elif sagemaker.enabled and sagemaker.instance_count < 2:
            yield FieldError(
                "sagemaker.instanceCount",
                sagemaker.instance_count,
                "production needs at least 2 instances to survive an AZ outage",
            )
        if self.autoscaling.enabled and self.autoscaling.min_instances < 2:
            yield FieldError(
                "autoscaling.minInstances",
                self.autoscaling.min_instances,
                "production keeps at least 2 instances",
            )
        if self.policy.enforcement is not PolicyEnforcement.MANDATORY:
            yield FieldError(
                "policy.enforcement",
                self.policy.enforcement.value,
                "production enforces the policy pack: use mandatory",
            )

    def _rollback_rules(self) -> Iterator[FieldError]:
        """Production's rollback minimums: long enough bakes, an old fleet to return to, and
        alarms tight enough to catch a bad version."""
        if not self.is_production:
            return
        rollout = self.rollout
        if rollout.strategy is RolloutStrategy.ALL_AT_ONCE:
            yield FieldError(
                "rollout.strategy",
                rollout.strategy.value,
                "production needs canary, linear or rolling with rollback alarms",
            )
            return
        if rollout.bake_seconds < PRODUCTION_MIN_BAKE_SECONDS:
            yield FieldError(
                "rollout.bakeSeconds",
                rollout.bake_seconds,
                f"production bakes at least {PRODUCTION_MIN_BAKE_SECONDS} s: alarms need "
                "minutes of traffic to see a bad version",
            )
        if rollout.termination_wait_seconds < PRODUCTION_MIN_TERMINATION_WAIT_SECONDS:
            yield FieldError(
                "rollout.terminationWaitSeconds",
                rollout.termination_wait_seconds,
                f"production keeps the old fleet at least {PRODUCTION_MIN_TERMINATION_WAIT_SECONDS}"
                " s, so a late rollback is instant",
            )
        metrics = {alarm.metric for alarm in rollout.rollback_alarms}
        if not metrics & set(LATENCY_METRICS) or not metrics & set(ERROR_METRICS):
            yield FieldError(
                "rollout.rollbackAlarms",
                sorted(m.value for m in metrics),
                "production rolls back on at least a latency metric and errors-5xx",
            )
        operational = {
            RollbackMetric.LATENCY_P99: self.monitoring.alarms.latency_p99.threshold,
            RollbackMetric.LATENCY_AVERAGE: self.monitoring.alarms.latency_average.threshold,
        }
        factor = PRODUCTION_MAX_LATENCY_ROLLBACK_FACTOR
        for index, alarm in enumerate(rollout.rollback_alarms):
            path = f"rollout.rollbackAlarms[{index}].threshold"
            if (
                alarm.metric is RollbackMetric.ERRORS_5XX
                and alarm.threshold > PRODUCTION_MAX_5XX_ROLLBACK_PERCENT
            ):
                yield FieldError(
                    path,
                    alarm.threshold,
                    f"production rolls back at {PRODUCTION_MAX_5XX_ROLLBACK_PERCENT:g}% 5xx "
                    "errors or less: more lets a broken version through",
                )
            limit = operational.get(alarm.metric)
            if limit is not None and alarm.threshold > factor * limit:
                yield FieldError(
                    path,
                    alarm.threshold,
                    f"production rolls back at most {factor}x the {alarm.metric.value} alarm "
                    f"(monitoring.alarms: {limit:g} ms), so at most {factor * limit:g} ms",
                )

    def _eks_path_rules(self) -> Iterator[FieldError]:
        """The EKS path: cluster needs the VPC, admins of the stack's account and a pinned
        image; production spreads over three AZs without a single NAT and pins every image
        by digest."""
        eks, serving, network = self.eks, self.kubernetes, self.network
        if eks.enabled and not network.enabled:
            yield FieldError("eks.enabled", True, "the cluster runs in the VPC: enable network")
        if eks.enabled and not eks.admin_principal_arns:
            yield FieldError(
                "eks.adminPrincipalArns", [], "name 1-20 IAM principals, including the deployer"
            )
        if eks.enabled and self.account_id is None:
            yield FieldError(
                "accountId", None, 'the cluster\'s account, 12 digits quoted: "123456789012"'
            )
        if eks.enabled and self.account_id is not None:
            for index, arn in enumerate(eks.admin_principal_arns):
                account = arn.split(":")[4]
                if account != self.account_id and arn not in eks.external_admin_principal_arns:
                    yield FieldError(
                        f"eks.adminPrincipalArns[{index}]",
                        arn,
                        f"not in account {self.account_id}: list it in "
                        "eks.externalAdminPrincipalArns too, after review",
                    )
        writers = (
            ("modelWriterArns", self.registry.model_writer_arns, "pipeline publishes its models"),
            ("codeWriterArns", self.registry.code_writer_arns, "role uploads its step scripts"),
        )
        if self.account_id is not None:
            for key, arns, release in writers:
                for index, arn in enumerate(arns):
                    if arn.split(":")[4] != self.account_id:
                        yield FieldError(
                            f"registry.{key}[{index}]",
                            arn,
                            f"a principal of account {self.account_id}: the stack's own "
                            f"release {release}",
                        )
        if eks.enabled and serving.image_tag is None and serving.image_digest is None:
            yield FieldError(
                "kubernetes.imageDigest", None, "pin the serving image: set imageDigest or imageTag"
            )
        if not self.is_production:
            return
        if network.enabled and network.availability_zones < 3:
            yield FieldError(
                "network.availabilityZones",
                network.availability_zones,
                "production spreads over 3 AZs",
            )
        if network.enabled and network.nat is NatMode.SINGLE:
            yield FieldError(
                "network.nat", "single", "production needs per-az (or none): no single-AZ NAT"
            )
        if not eks.enabled:
            return
        for key in ("image_digest", "model_fetcher_image_digest"):
            if getattr(serving, key) is None:
                yield FieldError(
                    f"kubernetes.{to_camel(key)}", None, "production pins images by digest"
                )
        if not serving.artifact_pinned:
            yield FieldError(
                "kubernetes.modelArtifactSha256",
                None,
                "production pins the model artifact: set modelArtifactSha256 or "
                "modelArtifactVersionId (from the model package), so a replaced file is "
                "never loaded",
            )
        artifact = serving.model_artifact
        if not artifact.startswith("s3://") and not artifact.startswith(
            f"{self.registry.model_prefix}/"
        ):
            yield FieldError(
                "kubernetes.modelArtifact",
                artifact,
                f"under registry.modelPrefix ({self.registry.model_prefix}/), where the bucket "
                "policy lets only registry.modelWriterArns write",
            )
        if serving.min_replicas < 2:
            yield FieldError(
                "kubernetes.minReplicas", serving.min_replicas, "production keeps at least 2 pods"
            )
        if eks.node_group.min_size < 2:
            yield FieldError(
                "eks.nodeGroup.minSize",
                eks.node_group.min_size,
                "production keeps at least 2 nodes",
            )

    def _cross_section_rules(self) -> Iterator[FieldError]:
        sagemaker = self.sagemaker
        serverless = sagemaker.mode is EndpointMode.SERVERLESS
        if sagemaker.enabled and not self.model.has_source:
            yield FieldError(
                "model.packageVersion",
                None,
                "the endpoint needs a model: set packageVersion (or imageUri)",
            )
        if self.rollout.strategy is RolloutStrategy.ROLLING and (
            serverless or sagemaker.ab_variants
        ):
            yield FieldError(
                "rollout.strategy",
                "rolling",
                "rolling updates are not for serverless or multi-variant endpoints",
            )
        if serverless and self.model.shadow is not None:
            yield FieldError(
                "model.shadow", "set", "serverless endpoints cannot run a shadow variant"
            )
        scaling = self.autoscaling
        in_range = scaling.min_instances <= sagemaker.instance_count <= scaling.max_instances
        if sagemaker.enabled and not serverless and scaling.enabled and not in_range:
            yield FieldError(
                "sagemaker.instanceCount",
                sagemaker.instance_count,
                f"within autoscaling {scaling.min_instances}-{scaling.max_instances}",
            )
        if self.monitoring.drift.enabled and not (
            sagemaker.enabled and sagemaker.data_capture.enabled
        ):
            yield FieldError(
                "monitoring.drift.enabled",
                True,
                "drift monitoring reads captured data: enable sagemaker.dataCapture",
            )
        yield from self._loop_rules()

    def _loop_rules(self) -> Iterator[FieldError]:
        """The retraining loop: triggers need the alarm they listen to, monitors need the
        captured data they read."""
        model, sagemaker = self.model, self.sagemaker
        retraining = model.retraining
        if retraining.enabled and retraining.drift_trigger and not self.monitoring.drift.enabled:
            yield FieldError(
                "model.retraining.driftTrigger",
                True,
                "the drift trigger listens to the data-drift alarm: enable monitoring.drift "
                "or set driftTrigger: false",
            )
        captured = sagemaker.enabled and sagemaker.data_capture.enabled
        for key, section in (
            ("qualityMonitoring", model.quality_monitoring),
            ("explainability", model.explainability),
        ):
            if section.enabled and not captured:
                yield FieldError(
                    f"model.{key}.enabled",
                    True,
                    "the monitor reads the endpoint's captured data: enable sagemaker and "
                    "sagemaker.dataCapture",
                )

    def _tag_rules(self) -> Iterator[FieldError]:
        for key, value in self.tags.items():
            problem = tag_problem(key, value)
            if problem is not None:
                yield FieldError(f"tags.{key}", value, problem)
        # A stack of many models tags each model's resources with its name as well.
        total = len(self.resource_tags()) + (1 if self.models else 0)
        if total > MAX_TAGS:
            kit = total - len(self.tags)
            yield FieldError(
                "tags",
                f"{len(self.tags)} tags",
                f"AWS allows {MAX_TAGS} tags per resource and the kit adds {kit}: "
                f"keep at most {MAX_TAGS - kit}",
            )

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


MODEL_TAG = "mlstack:model"
"""Tag naming the model a resource serves, on every per-model resource of ``mlstack:models``."""
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")

_SECTION_KEYS = {
    "sagemaker": "sagemaker",
    "rollout": "rollout",
    "autoscaling": "autoscaling",
    "monitoring.alarms": "alarms",
    "monitoring.drift": "drift",
}


@dataclass(frozen=True)
class ServedModel:
    """One model of a stack, resolved: its settings, and the stack as if it served only this
    model (``view``), which the single-model rules and the program read."""

    name: str
    """The model's name (a DNS label)."""
    settings: ModelSettings
    view: StackConfig
    """The stack config with this model's sections in place of the single-model ones."""
    legacy_names: bool
    """Its resources keep the single-model names (no model prefix)."""
    tags: dict[str, str]
    """Tags of its resources: the stack's, plus ``mlstack:model`` in a stack of models (not for
    a model with legacyNames, whose resources keep the single-model stack's inputs)."""
    fleet_name: str | None = None
    fleet: FleetConfig | None = None
    single: bool = False
    """The one model of a single-model stack (``mlstack:model``): its keys are the
    single-model ones. Default false: a model of ``mlstack:models``."""

    @property
    def loop_name(self) -> str:
        """The name the model's loop goes by: its pipelines ``<loop_name>-retraining`` and
        ``-batch``, their definition files ``stacks/pipelines/<stack>-<loop_name>.json``. With
        legacy names, the model package group's (the single-model stack's name for it)."""
        return loop_name(self.name, self.legacy_names, self.view.model_package_group_name)

    def resource_name(self, base: str) -> str:
        """Logical name of one of the model's components: ``base`` with legacy names, else
        ``<model>-<base>``."""
        return base if self.legacy_names else f"{self.name}-{base}"

    def key_path(self, path: str) -> str:
        """Where a single-model key path (``model.batch``) of this model lives in the stack
        file: ``models.<name>.batch`` for a model of ``mlstack:models``, the path itself for
        the model of a single-model stack."""
        if self.single:
            return path
        prefix = f"models.{self.name}"
        head, _, rest = path.partition(".")
        if head == "model":
            return f"{prefix}.{rest}" if rest else prefix
        if (
            self.fleet_name is not None
            and head == "sagemaker"
            and rest.split(".")[0]
            in (
                "instanceCount",
                "instanceType",
                "dataCapture",
            )
        ):
            return f"fleets.{self.fleet_name}.{rest}"
        for single, per_model in _SECTION_KEYS.items():
            if path == single or path.startswith(f"{single}."):
                return f"{prefix}.{per_model}{path[len(single) :]}"
        if head == "kubernetes" and _camel_to_snake(rest.split(".")[0]) in WORKLOAD_FIELDS:
            return f"{prefix}.{path}"
        return path


def _camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
