"""The reviewer summary that leads ``mlstack plan`` and ``mlstack diff``.

One data structure, rendered as text (the plan), Markdown (the diff) and JSON (both): the
stack's tier and enforcement, per serving path the model version, image, capacity and
scaling, the rollout timeline and its rollback alarms in the config's units, the operations
an update would run (replaces and deletes of stateful or serving resources marked) and the
on-demand hourly cost before and after, with the second fleet's cost during a blue/green
deployment.

In a stack of many models (``mlstack:models``) the same facts are told per model (its
serving paths, rollout, loop and cost), after the platform's (tier, enforcement, the shared
fleets and nodes); a diff shows only the models that changed, with their operations, names
the unchanged ones, and lists the platform's changes apart. A single-model stack reads as one
model without a heading.

Every value is read from the resolved config the plan document carries under ``"config"``
(:func:`infra.config.resolved_document`), never re-derived: the rollout is compiled by
:func:`infra.rollout.timeline`, units come from :class:`infra.config.RollbackMetric`, the
retraining loop is told by :func:`mlstack.loop.loop_summary`, resources are attributed to
their model by :mod:`mlstack.attribution`. Which models and serving paths a stack has is
answered by :func:`stack_models` and :func:`serving_paths` alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from infra.config import (
    PROJECT,
    ConfigError,
    RolloutPolicy,
    build_config,
    resolved_document,
)
from infra.config.model import ModelConfig
from infra.config.models import ServingTarget, loop_name
from infra.config.rollout import ROLLBACK_PERIOD_SECONDS, RollbackAlarm
from infra.rollout import Timeline, timeline
from mlstack.attribution import owners_by_key
from mlstack.diff_data.prices import Service, currency, hourly_price, source
from mlstack.loop import loop_summary
from mlstack.offline.secrets import Fingerprinter
from mlstack.operations import Operation, ResourceChange, counts, operations
from policy_pack.type_tokens import SAGEMAKER_ENDPOINT, SAGEMAKER_INFERENCE_COMPONENT

Document = dict[str, Any]
UNKNOWN = "unknown"
"""How a value without a source (a price the data file lacks) reads: never zero."""
ARROW = " -> "
"""Between the base and the head value of a changed fact."""

_PROJECT = "mlstack:"


# ---------------------------------------------------------------------------------------------
# The resolved config of a plan document
# ---------------------------------------------------------------------------------------------


def resolved_config(doc: Document) -> dict[str, Any]:
    """The resolved config a plan document carries under ``"config"``.

    A document made at an older ref may carry the raw CLI encoding instead (JSON strings);
    it is resolved by the config package's own loader, its secrets fingerprinted as the
    harness does. Empty when neither can be read.
    """
    config = doc.get("config") or {}
    raw = {k: v for k, v in config.items() if isinstance(v, str)}
    if not any(v[:1] in "{[" for v in raw.values()):
        return config
    try:
        stack = str(doc.get("stack") or "stack")
        resolved = resolved_document(build_config(stack, raw, list(doc.get("secretKeys") or [])))
        project = str(doc.get("project") or PROJECT)
        return Fingerprinter.for_stack(project, stack).config_document(resolved)
    except ConfigError:
        return {}


def section(config: dict[str, Any], key: str) -> dict[str, Any]:
    """One object section of a resolved config (``"rollout"`` -> ``mlstack:rollout``)."""
    value = config.get(f"{_PROJECT}{key}")
    return value if isinstance(value, dict) else {}


def rollout_policy(config: dict[str, Any]) -> RolloutPolicy | None:
    """The stack's rollout policy, parsed by the config model (None without one)."""
    rollout = section(config, "rollout")
    if not rollout:
        return None
    return RolloutPolicy.model_validate_json(json.dumps(rollout))


# ---------------------------------------------------------------------------------------------
# Models and serving paths
# ---------------------------------------------------------------------------------------------

_MODEL_KEYS = frozenset(to_camel(name) for name in ModelConfig.model_fields)
"""Keys of ``mlstack:model`` (camelCase, as the resolved config has them)."""


@dataclass(frozen=True)
class StackModel:
    """One model of a stack of many models, read from the resolved config."""

    name: str
    """Its key in ``mlstack:models``."""
    settings: dict[str, Any]
    """Its resolved entry (``models.<name>`` of the resolved config)."""
    view: dict[str, Any]
    """The stack's resolved config as if it served only this model: its sections in the
    single-model keys (``mlstack:model``, ``mlstack:sagemaker``, ``mlstack:rollout``, ...),
    so the single-model readers below read it."""

    @property
    def fleet(self) -> str | None:
        """The shared fleet it runs on, or None (a dedicated endpoint)."""
        share = self.settings.get("fleet")
        return str(share["name"]) if isinstance(share, dict) else None

    @property
    def on_eks(self) -> bool:
        return bool(section(self.view, "eks").get("enabled"))


def many_models(config: dict[str, Any]) -> bool:
    """A stack of many models: its resolved config has ``models`` and no ``mlstack:model``."""
    return bool(config.get("models")) and f"{_PROJECT}model" not in config


def stack_models(config: dict[str, Any], *, single_as_one: bool = False) -> list[StackModel] | None:
    """The models of a stack of many models, in the resolved config's order; None for a
    single-model stack (its one model is read from the single-model keys), unless
    ``single_as_one``: then its one model, so that it pairs with a stack of many models (a
    migration, a comparison). Default false.

    A model's view follows the program's (:meth:`infra.config.StackConfig.served_models`):
    ``targets`` decides whether its SageMaker endpoint and its EKS workload exist, and its
    workload settings complete the stack's shared ``mlstack:kubernetes``."""
    if not many_models(config):
        if not single_as_one:
            return None
        return [StackModel(single_model_name(config), single_model_settings(config), config)]
    out = []
    eks = section(config, "eks")
    shared = section(config, "kubernetes")
    for name, entry in (config.get("models") or {}).items():
        if not isinstance(entry, dict):
            continue
        targets = [str(t) for t in entry.get("targets") or [ServingTarget.SAGEMAKER.value]]
        view = {
            **config,
            f"{_PROJECT}model": {k: v for k, v in entry.items() if k in _MODEL_KEYS},
            f"{_PROJECT}sagemaker": {
                **(entry.get("sagemaker") or {}),
                "enabled": ServingTarget.SAGEMAKER.value in targets,
            },
            f"{_PROJECT}autoscaling": entry.get("autoscaling") or {},
            f"{_PROJECT}rollout": entry.get("rollout") or {},
            f"{_PROJECT}eks": {
                **eks,
                "enabled": bool(eks.get("enabled")) and ServingTarget.EKS.value in targets,
            },
            f"{_PROJECT}kubernetes": {**shared, **(entry.get("kubernetes") or {})},
        }
        out.append(StackModel(str(name), entry, view))
    return out


def single_model_name(config: dict[str, Any]) -> str:
    """The name the one model of a single-model stack goes by: its entry in the resolved
    ``models`` (plans made before that key: its model package group)."""
    models = config.get("models")
    if isinstance(models, dict) and len(models) == 1:
        return str(next(iter(models)))
    return _package_group(config)


def single_model_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The settings of a single-model stack's model, shaped as an entry of ``models``: that
    entry of the resolved config; for plans made before that key, ``mlstack:model`` with the
    stack's ``mlstack:monitoring.drift`` (the model's data-drift schedule)."""
    entry = (config.get("models") or {}).get(single_model_name(config))
    if isinstance(entry, dict):
        return entry
    drift = section(config, "monitoring").get("drift")
    return {**section(config, "model"), **({"drift": drift} if isinstance(drift, dict) else {})}


@dataclass(frozen=True)
class Fleet:
    """Instances billed by the hour: ``count`` x ``instance_type`` of one price list."""

    service: Service
    instance_type: str
    count: int
    label: str
    """What the fleet is, e.g. ``SageMaker AllTraffic`` or ``EKS nodes``."""


@dataclass(frozen=True)
class ServingPath:
    """One way a stack serves a model: which version, from which image, on what capacity."""

    kind: Literal["SageMaker", "EKS"]
    model: str
    """The model version served, e.g. ``churn-classifier v3``."""
    facts: tuple[tuple[str, str], ...]
    """(label, value) pairs in display order: image, capacity, scaling, ..."""
    fleets: tuple[Fleet, ...] = ()
    """What the path costs by the hour (capacity it shares with other models is the
    platform's)."""
    blue_green_fleet: Fleet | None = None
    """The fleet a blue/green deployment brings up beside the old one."""
    name: str | None = None
    """The model (its key in ``mlstack:models``) in a stack of many models; None in a
    single-model stack."""

    def to_json(self) -> dict[str, Any]:
        out = {"kind": self.kind, "model": self.model, **dict(self.facts)}
        return out if self.name is None else {**out, "modelName": self.name}


def _package_group(config: dict[str, Any]) -> str:
    model = section(config, "model")
    return str(
        model.get("packageGroupName") or section(config, "registry").get("modelPackageGroupName")
    )


def _version(config: dict[str, Any]) -> tuple[str, str]:
    """The version a SageMaker path serves and where its image comes from."""
    model = section(config, "model")
    if model.get("packageVersion") is not None:
        return f"{_package_group(config)} v{model['packageVersion']}", "from the model package"
    return str(model.get("artifactUri") or "(no artifact)"), str(model.get("imageUri"))


def _sagemaker_path(config: dict[str, Any]) -> ServingPath | None:
    sagemaker = section(config, "sagemaker")
    if not sagemaker.get("enabled"):
        return None
    model = section(config, "model")
    group = _package_group(config)
    version, image = _version(config)
    facts: list[tuple[str, str]] = [("image", image)]
    fleets: list[Fleet] = []
    variant = str(sagemaker.get("variantName"))
    if sagemaker.get("mode") == "serverless":
        serverless = sagemaker.get("serverless") or {}
        facts.append(
            (
                "capacity",
                f"serverless {serverless.get('memorySizeMb')} MB, "
                f"{serverless.get('maxConcurrency')} concurrent (billed per request)",
            )
        )
    else:
        instance_type, count = str(sagemaker.get("instanceType")), int(sagemaker["instanceCount"])
        facts.append(("instances", f"{count} x {instance_type} ({variant})"))
        fleets.append(Fleet("sagemaker", instance_type, count, f"SageMaker {variant}"))
        for ab in sagemaker.get("abVariants") or []:
            facts.append(
                (
                    f"A/B variant {ab['name']}",
                    f"{group} v{ab['packageVersion']}, {ab['instanceCount']} x {instance_type}, "
                    f"weight {_number(ab['weight'])}",
                )
            )
            fleets.append(
                Fleet(
                    "sagemaker", instance_type, int(ab["instanceCount"]), f"SageMaker {ab['name']}"
                )
            )
        shadow = model.get("shadow")
        if shadow:
            facts.append(
                (
                    "shadow",
                    f"{group} v{shadow['packageVersion']}, {shadow['samplingPercent']}% copied, "
                    f"{shadow['instanceCount']} x {instance_type}",
                )
            )
            fleets.append(
                Fleet("sagemaker", instance_type, int(shadow["instanceCount"]), "SageMaker shadow")
            )
        autoscaling = section(config, "autoscaling")
        facts.append(
            (
                "autoscaling",
                f"{autoscaling.get('minInstances')}-{autoscaling.get('maxInstances')} instances"
                if autoscaling.get("enabled")
                else "off",
            )
        )
    green = fleets[0] if fleets else None
    return ServingPath(
        "SageMaker",
        version,
        tuple(facts),
        tuple(fleets),
        Fleet(green.service, green.instance_type, green.count, "second SageMaker fleet")
        if green
        else None,
    )


def _node_group(config: dict[str, Any]) -> tuple[str, Fleet | None]:
    """The EKS node group as a fact and as the fleet it bills."""
    nodes = section(config, "eks").get("nodeGroup") or {}
    types = [str(t) for t in nodes.get("instanceTypes") or []]
    text = (
        f"{nodes.get('desiredSize')} x {', '.join(types)} "
        f"({nodes.get('minSize')}-{nodes.get('maxSize')}, {nodes.get('capacityType')})"
    )
    # A node group of several types launches any of them: the first one is priced.
    label = "EKS nodes"
    if nodes.get("capacityType") == "SPOT":
        label += " (SPOT: the on-demand price is an upper bound)"
    fleet = Fleet("ec2", types[0], int(nodes["desiredSize"]), label) if types else None
    return text, fleet


def _eks_path(config: dict[str, Any], *, with_nodes: bool = True) -> ServingPath | None:
    """The EKS path; ``with_nodes`` false leaves the node group (shared by the models of a
    stack of many) to the platform."""
    if not section(config, "eks").get("enabled"):
        return None
    serving = section(config, "kubernetes")
    image = serving.get("imageDigest") or (
        f"tag {serving['imageTag']}" if serving.get("imageTag") else "(no image pinned)"
    )
    facts = [
        ("image", str(image)),
        (
            "replicas",
            f"{serving.get('minReplicas')}-{serving.get('maxReplicas')} pods "
            f"(HPA at {serving.get('targetCpuUtilizationPercent')}% CPU)",
        ),
    ]
    fleets: tuple[Fleet, ...] = ()
    if with_nodes:
        nodes, fleet = _node_group(config)
        facts.append(("nodes", nodes))
        fleets = (fleet,) if fleet else ()
    model = str(serving.get("modelArtifact"))
    if serving.get("modelVersion") is not None:
        model = f"{_package_group(config)} v{serving['modelVersion']} ({model})"
    return ServingPath("EKS", model, tuple(facts), fleets)


def _fleet_path(model: StackModel, config: dict[str, Any]) -> ServingPath:
    """A model on a shared fleet: one inference component, its copies and their compute
    (the fleet's instances are the platform's)."""
    share = model.settings.get("fleet") or {}
    fleet = section(config, "fleets").get(str(share.get("name"))) or {}
    version, image = _version(model.view)
    autoscaling = section(model.view, "autoscaling")
    facts = (
        ("image", image),
        (
            "fleet",
            f"{share.get('name')} (shared, {fleet.get('endpointName')}): "
            f"{share.get('copies')} copies x {_number(share.get('cpuCores'))} CPU, "
            f"{share.get('memoryMb')} MB",
        ),
        (
            "autoscaling",
            f"{autoscaling.get('minInstances')}-{autoscaling.get('maxInstances')} copies"
            if autoscaling.get("enabled")
            else "off",
        ),
    )
    return ServingPath("SageMaker", version, facts, name=model.name)


def _model_paths(model: StackModel, config: dict[str, Any]) -> list[ServingPath]:
    out: list[ServingPath] = []
    if section(model.view, "sagemaker").get("enabled"):
        if model.fleet is not None:
            out.append(_fleet_path(model, config))
        else:
            path = _sagemaker_path(model.view)
            if path is not None:
                out.append(replace(path, name=model.name))
    path = _eks_path(model.view, with_nodes=False)
    if path is not None:
        out.append(replace(path, name=model.name))
    return out


def serving_paths(config: dict[str, Any]) -> list[ServingPath]:
    """The serving paths of a stack's resolved config: SageMaker and EKS, each when enabled.

    The one place that knows which models a stack serves and where; with many models per
    stack it returns one entry per model and path (``ServingPath.name`` names the model), a
    model on a shared fleet as its inference component.
    """
    models = stack_models(config)
    if models is None:
        return [p for p in (_sagemaker_path(config), _eks_path(config)) if p is not None]
    return [path for model in models for path in _model_paths(model, config)]


# ---------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One line of the summary: ``group`` (``stack``, ``platform``, ``SageMaker``,
    ``rollout``, ``loop``, ``cost``, ...), ``label`` and the value as the reviewer reads it;
    ``model`` names the model in a stack of many models (None: the stack, the platform, or
    the one model of a single-model stack)."""

    group: str
    label: str
    value: str
    model: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if self.model is None:
            del out["model"]
        return out


@dataclass(frozen=True)
class Cost:
    """On-demand cost in USD, or None where a price is not known."""

    hourly: float | None
    fleets: tuple[dict[str, Any], ...] = ()
    second_fleet_seconds: int = 0
    second_fleet: float | None = None
    """Extra cost of one blue/green deployment: the second fleet for its duration."""

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": currency(),
            "hourly": self.hourly,
            "fleets": list(self.fleets),
            "secondFleetSeconds": self.second_fleet_seconds,
            "secondFleet": self.second_fleet,
        }


@dataclass(frozen=True)
class ModelSummary:
    """One model: its serving paths, its rollout and rollback alarms, its retraining loop
    and (in a stack of many models) what its own capacity costs."""

    name: str
    paths: tuple[ServingPath, ...]
    timeline: Timeline | None
    rollback_alarms: tuple[str, ...]
    loop: dict[str, Any] | None
    """:func:`mlstack.loop.loop_summary` of the model; None where its settings cannot be
    read (a plan made by an older version of the kit)."""
    cost: Cost
    shared: tuple[str, ...] = ()
    """Capacity of the platform it also runs on (``fleet small-models``, ``EKS nodes``)."""

    def facts(self, model: str | None) -> list[Fact]:
        """Its facts, each naming ``model`` (None: a single-model stack's, whose cost is the
        stack's)."""
        out: list[Fact] = []
        for path in self.paths:
            out.append(Fact(path.kind, "model", path.model, model))
            out += [Fact(path.kind, label, value, model) for label, value in path.facts]
        if self.timeline is not None:
            steps = self.timeline.describe(with_alarms=False)
            out.append(Fact("rollout", "timeline", f"{self.timeline.strategy}: {steps}", model))
            out.append(
                Fact("rollout", "rollback alarms", ", ".join(self.rollback_alarms) or "none", model)
            )
        out += [Fact("loop", label, value, model) for label, value in loop_facts(self.loop)]
        if model is not None:
            out += _cost_facts(self.cost, model, self.shared)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "paths": [p.to_json() for p in self.paths],
            "rollout": _rollout_json(self.timeline, self.rollback_alarms),
            "loop": self.loop,
            "cost": {**self.cost.to_json(), "shared": list(self.shared)},
        }


def loop_facts(loop: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A model's loop (:func:`mlstack.loop.loop_summary`) as (label, value) lines: the
    retraining pipeline and its triggers, the batch schedule, the monitors."""
    if loop is None:
        return []
    out: list[tuple[str, str]] = []
    retraining = loop.get("retraining")
    if retraining:
        gate = f"{retraining['metric']} >= {_number(retraining['threshold'])}"
        if retraining.get("approvedMetric") is not None:
            gate += f" and >= {_number(retraining['approvedMetric'])} (the approved version's)"
        out.append(
            (
                "retraining",
                f"pipeline {retraining['pipeline']}, registers a candidate with {gate} "
                f"as {retraining['registersAs']}",
            )
        )
        out.append(
            (
                "retraining triggers",
                f"{', '.join(retraining['triggers'])} "
                f"(window {retraining['scheduleWindowMinutes']} min; "
                f"runs at least {retraining['minIntervalHours']} h apart)",
            )
        )
    else:
        out.append(("retraining", "off"))
    batch = loop.get("batch")
    out.append(
        (
            "batch",
            f"pipeline {batch['pipeline']}, schedule {batch['schedule']} UTC, "
            f"version {batch['packageVersion']} on {batch['instances']}, "
            f"{batch['input']} -> {batch['output']}"
            if batch
            else "off",
        )
    )
    monitors = [
        f"{m['kind']} {m['schedule']}, alarm on {m['alarm']}" for m in loop.get("monitors") or []
    ]
    out.append(("monitors", "; ".join(monitors) or "none"))
    return out


def _rollout_json(rollout: Timeline | None, alarms: tuple[str, ...]) -> dict[str, Any] | None:
    if rollout is None:
        return None
    return {
        "strategy": rollout.strategy,
        "timeline": rollout.describe(with_alarms=False),
        "secondFleetSeconds": rollout.second_fleet_seconds,
        "rollbackAlarms": list(alarms),
    }


def _cost_facts(cost: Cost, model: str | None, shared: tuple[str, ...] = ()) -> list[Fact]:
    """The cost lines of a model (its own capacity) or of the stack (``model`` None)."""
    hourly = _money(cost.hourly, "/h")
    if model is not None and shared:
        own = hourly if cost.fleets else ""
        share = f"its share of {' and '.join(shared)}"
        hourly = f"{own} plus {share}" if own else share
    out = [Fact("cost", "hourly (on-demand)", hourly, model)]
    out += [Fact("cost", fleet["label"], _fleet_text(fleet), model) for fleet in cost.fleets]
    if cost.second_fleet_seconds:
        out.append(
            Fact(
                "cost",
                "each blue/green deployment",
                f"second fleet for {cost.second_fleet_seconds} s: {_money(cost.second_fleet, '')}",
                model,
            )
        )
    return out


@dataclass(frozen=True)
class Summary:
    """What a reviewer reads first about one plan."""

    stack: str
    tier: str
    enforcement: str
    models: tuple[ModelSummary, ...]
    """The models served: one in a single-model stack."""
    cost: Cost
    """The whole stack's."""
    region: str
    grouped: bool = False
    """A stack of many models: facts are told per model, after the platform's."""
    platform: tuple[tuple[str, str], ...] = ()
    """(label, value) of what the models share (a stack of many models only)."""
    platform_cost: Cost | None = None
    """What the shared capacity costs (a stack of many models only)."""

    @property
    def paths(self) -> tuple[ServingPath, ...]:
        """Every model's serving paths."""
        return tuple(path for model in self.models for path in model.paths)

    def model(self, name: str) -> ModelSummary | None:
        return next((m for m in self.models if m.name == name), None)

    def facts(self) -> list[Fact]:
        """Every fact in display order."""
        out = [
            Fact("stack", "tier", self.tier),
            Fact("stack", "enforcement", self.enforcement),
        ]
        if not self.grouped:
            for model in self.models:
                out += model.facts(None)
            out += _cost_facts(self.cost, None)
            out.append(Fact("cost", "prices", price_source()))
            return out
        out += [Fact("platform", label, value) for label, value in self.platform]
        for model in self.models:
            out += model.facts(model.name)
        out.append(Fact("cost", "hourly (on-demand)", _money(self.cost.hourly, "/h")))
        shared = self.platform_cost.fleets if self.platform_cost else ()
        out += [Fact("cost", fleet["label"], _fleet_text(fleet)) for fleet in shared]
        out.append(Fact("cost", "prices", price_source()))
        return out

    def to_json(self) -> dict[str, Any]:
        single = self.models[0] if not self.grouped and self.models else None
        return {
            "stack": self.stack,
            "tier": self.tier,
            "enforcement": self.enforcement,
            "region": self.region,
            "paths": [p.to_json() for p in self.paths],
            "rollout": _rollout_json(single.timeline, single.rollback_alarms) if single else None,
            "models": [m.to_json() for m in self.models],
            "platform": dict(self.platform) if self.grouped else None,
            "cost": self.cost.to_json(),
            "facts": [f.to_json() for f in self.facts()],
        }


def price_source() -> str:
    """Where the prices come from and as of when, e.g. ``on-demand list prices as of
    2026-07-20 (aws/karpenter-provider-aws ...)``."""
    data = source()
    names = "; ".join(str(s.get("name")) for s in data.get("sources") or [])
    return f"{currency()} on-demand list prices as of {data.get('pricesAsOf')} ({names})"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _money(value: float | None, unit: str) -> str:
    return UNKNOWN if value is None else f"${value:,.3f}{unit}"


def _fleet_text(fleet: dict[str, Any]) -> str:
    each = _money(fleet["unitPrice"], "/h")
    return f"{fleet['count']} x {fleet['instanceType']} at {each} = {_money(fleet['hourly'], '/h')}"


def alarm_window(datapoints: Any, periods: Any, period_seconds: Any) -> str:
    """``3 of 5 x 60 s``: breaching periods of periods evaluated, times the period."""
    return f"{_number(datapoints)} of {_number(periods)} x {_number(period_seconds)} s"


def rollback_alarm_text(alarm: RollbackAlarm) -> str:
    """A rollback alarm in the config's units: ``latency-p99 > 500 ms, 2 of 2 x 60 s`` (it
    fires when every period evaluated breaches)."""
    periods = alarm.evaluation_periods
    return (
        f"{alarm.metric.value} > {_number(alarm.threshold)} {alarm.metric.unit}, "
        f"{alarm_window(periods, periods, ROLLBACK_PERIOD_SECONDS)}"
    )


def _cost(
    fleets: Iterable[Fleet],
    region: str,
    green: Fleet | None = None,
    rollout: Timeline | None = None,
) -> Cost:
    """What ``fleets`` cost by the hour in ``region``, and ``green`` (the fleet a blue/green
    deployment adds) for the duration of ``rollout``."""
    priced: list[dict[str, Any]] = []
    for fleet in fleets:
        unit = hourly_price(fleet.service, region, fleet.instance_type)
        priced.append(
            {
                "label": fleet.label,
                "service": fleet.service,
                "instanceType": fleet.instance_type,
                "count": fleet.count,
                "unitPrice": unit,
                "hourly": None if unit is None else unit * fleet.count,
            }
        )
    hourly = None if any(f["hourly"] is None for f in priced) else sum(f["hourly"] for f in priced)
    seconds = rollout.second_fleet_seconds if rollout is not None and green else 0
    extra: float | None = None
    if seconds and green is not None:
        unit = hourly_price(green.service, region, green.instance_type)
        extra = None if unit is None else unit * green.count * seconds / 3600
    return Cost(hourly, tuple(priced), seconds, extra)


def _paths_cost(paths: tuple[ServingPath, ...], region: str, rollout: Timeline | None) -> Cost:
    """The cost of ``paths``; the rollout compiles to the SageMaker endpoint, so only a path
    with one pays a second fleet."""
    green = next((p.blue_green_fleet for p in paths if p.blue_green_fleet), None)
    has_endpoint = any(p.kind == "SageMaker" for p in paths)
    fleets = [fleet for path in paths for fleet in path.fleets]
    return _cost(fleets, region, green, rollout if has_endpoint else None)


def _loop(settings: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    try:
        return loop_summary(settings, name)
    except ValidationError:
        return None


def _rollback_alarms(policy: RolloutPolicy | None) -> tuple[str, ...]:
    return tuple(rollback_alarm_text(a) for a in (policy.rollback_alarms if policy else []))


def _single_model(config: dict[str, Any], region: str) -> tuple[ModelSummary, Cost]:
    """The one model of a single-model stack, and the stack's cost (every path's)."""
    policy = rollout_policy(config)
    paths = tuple(serving_paths(config))
    rollout = timeline(policy) if policy is not None else None
    cost = _paths_cost(paths, region, rollout)
    group = _package_group(config)
    model = ModelSummary(
        name=single_model_name(config),
        paths=paths,
        timeline=rollout if paths else None,
        rollback_alarms=_rollback_alarms(policy),
        loop=_loop(single_model_settings(config), group),
        cost=cost,
    )
    return model, cost


def _stack_model(model: StackModel, config: dict[str, Any], region: str) -> ModelSummary:
    policy = rollout_policy(model.view)
    paths = tuple(_model_paths(model, config))
    rollout = timeline(policy) if policy is not None and paths else None
    shared = tuple(
        name
        for name, on in (
            (f"fleet {model.fleet}", model.fleet is not None),
            ("EKS nodes", model.on_eks),
        )
        if on
    )
    legacy = model.settings.get("legacyNames") is True
    return ModelSummary(
        name=model.name,
        paths=paths,
        timeline=rollout,
        rollback_alarms=_rollback_alarms(policy),
        loop=_loop(model.settings, loop_name(model.name, legacy, _package_group(model.view))),
        cost=_paths_cost(paths, region, rollout),
        shared=shared,
    )


def _platform(
    config: dict[str, Any], models: list[StackModel], region: str
) -> tuple[tuple[tuple[str, str], ...], Cost]:
    """What the models of a stack share, as facts, and what its shared capacity costs: the
    fleets, the EKS nodes, the network, the alert topic."""
    facts: list[tuple[str, str]] = [("models", ", ".join(m.name for m in models) or "none")]
    fleets: list[Fleet] = []
    for name, fleet in section(config, "fleets").items():
        on = [m.name for m in models if m.fleet == name]
        facts.append(
            (
                f"fleet {name}",
                f"{fleet.get('instanceCount')} x {fleet.get('instanceType')} "
                f"({fleet.get('endpointName')}), managed scaling "
                f"{fleet.get('minInstances')}-{fleet.get('maxInstances')} instances, "
                f"shared by {', '.join(on) or 'no model'}",
            )
        )
        fleets.append(
            Fleet(
                "sagemaker",
                str(fleet.get("instanceType")),
                int(fleet["instanceCount"]),
                f"fleet {name}",
            )
        )
    if section(config, "eks").get("enabled"):
        nodes, node_fleet = _node_group(config)
        on = [m.name for m in models if m.on_eks]
        facts.append(("EKS nodes", f"{nodes}, shared by {', '.join(on) or 'no model'}"))
        if node_fleet is not None:
            fleets.append(node_fleet)
    network = section(config, "network")
    if network.get("enabled"):
        facts.append(
            (
                "network",
                f"{network.get('cidr')}, {network.get('availabilityZones')} zones, "
                f"NAT {network.get('nat')}",
            )
        )
    monitoring = section(config, "monitoring")
    # Counted, never listed: subscriber addresses and webhooks stay out of reviews.
    emails = len(monitoring.get("emailSubscriptions") or [])
    hooks = len(monitoring.get("httpsSubscriptions") or [])
    facts.append(
        ("alerts", f"{_plural(emails, 'email address')}, {_plural(hooks, 'HTTPS endpoint')}")
    )
    return tuple(facts), _cost(fleets, region)


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun}es" if noun.endswith("ss") else f"{count} {noun}s"


def summarize(doc: Document, *, per_model: bool = False) -> Summary:
    """The summary of one plan document (``mlstack plan --json`` or a diff side).

    ``per_model``: tell a single-model stack as a stack of one model (facts per model,
    platform apart), to pair it with a stack of many models. Default false."""
    config = resolved_config(doc)
    region = str(config.get("aws:region") or UNKNOWN)
    stack = str(doc.get("stack") or "")
    tier = str(doc.get("tier") or config.get(f"{_PROJECT}environment") or UNKNOWN)
    enforcement = str(section(config, "policy").get("enforcement") or UNKNOWN)
    if not config.get("models") and not section(config, "model"):
        # No model at all: the empty side of a diff against a stack that does not exist yet.
        return Summary(stack, tier, enforcement, (), _cost((), region), region, per_model)
    many = stack_models(config, single_as_one=per_model)
    if many is None:
        model, cost = _single_model(config, region)
        return Summary(stack, tier, enforcement, (model,), cost, region)
    models = tuple(_stack_model(m, config, region) for m in many)
    platform, shared = _platform(config, many, region)
    fleets = [
        {**fleet, "label": f"{model.name}: {fleet['label']}"}
        for model in models
        for fleet in model.cost.fleets
    ] + list(shared.fleets)
    known = all(f["hourly"] is not None for f in fleets)
    total = Cost(sum(f["hourly"] for f in fleets) if known else None, tuple(fleets))
    return Summary(stack, tier, enforcement, models, total, region, True, platform, shared)


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operations:
    """How many resources each operation touches, and the marked replaces and deletes."""

    totals: dict[str, int]
    marked: tuple[ResourceChange, ...] = ()

    def line(self) -> str:
        t = self.totals
        return (
            f"{t['create']} to create, {t['update']} to update, {t['replace']} to replace, "
            f"{t['delete']} to delete ({t['same']} unchanged)"
        )

    def marked_lines(self) -> list[str]:
        return [
            f"{c.operation.value} {c.name} ({c.type.split(':')[-1]}): "
            f"{'stateful' if c.stateful else 'serving'}"
            for c in self.marked
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.totals,
            "marked": [
                {
                    "name": c.name,
                    "type": c.type,
                    "operation": c.operation.value,
                    "kind": "stateful" if c.stateful else "serving",
                }
                for c in self.marked
            ],
        }


def operations_of(changes: Iterable[ResourceChange]) -> Operations:
    changes = list(changes)
    return Operations(counts(changes), tuple(c for c in changes if c.marked))


# ---------------------------------------------------------------------------------------------
# Plan: one summary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanReview:
    """The summary of one plan: what a first ``pulumi up`` of it would run."""

    summary: Summary
    operations: Operations

    def to_json(self) -> dict[str, Any]:
        return {**self.summary.to_json(), "operations": self.operations.to_json()}

    def lines(self) -> list[str]:
        """Plain lines: never cut, however narrow the terminal."""
        out = [f"summary of stack {self.summary.stack}"]
        out += _fact_lines([(f, f.value) for f in self.summary.facts()])
        out.append(f"  operations: {self.operations.line()}")
        return out


def review_plan(doc: Document) -> PlanReview:
    """The review of a plan document: every resource is a create against an empty stack."""
    return PlanReview(summarize(doc), operations_of(operations({"resources": []}, doc)))


def _fact_lines(items: list[tuple[Fact, str]]) -> list[str]:
    """Facts under their group, the groups of one model under ``model <name>``."""
    lines: list[str] = []
    where: tuple[str | None, str] | None = None
    for fact, text in items:
        indent = "  " if fact.model is None else "    "
        if where is None or (fact.model, fact.group) != where:
            if fact.model is not None and (where is None or where[0] != fact.model):
                lines.append(f"  model {fact.model}")
            where = (fact.model, fact.group)
            lines.append(f"{indent}{fact.group}")
        lines.append(f"{indent}  {fact.label}: {text}")
    return lines


# ---------------------------------------------------------------------------------------------
# Diff: base -> head
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactChange:
    """A value of either side of a change; ``base`` or ``head`` is None where that side
    lacks it. ``group`` is the summary's section (``stack``, ``SageMaker``, ...), ``model``
    the model it tells in a stack of many models (None: the stack or its platform)."""

    label: str
    base: str | None
    head: str | None
    group: str = ""
    model: str | None = None

    @property
    def changed(self) -> bool:
        return self.base != self.head

    @property
    def section(self) -> str:
        """Where the fact belongs: ``SageMaker``, or ``churn SageMaker`` for a model's."""
        return self.group if self.model is None else f"{self.model} {self.group}"

    def text(self) -> str:
        if not self.changed:
            return str(self.head)
        return f"{self.base or '(none)'}{ARROW}{self.head or '(none)'}"

    def to_json(self) -> dict[str, Any]:
        out = {**asdict(self), "changed": self.changed}
        if self.model is None:
            del out["model"]
        return out


DEPLOYED_TYPES = frozenset({SAGEMAKER_ENDPOINT, SAGEMAKER_INFERENCE_COMPONENT})
"""An update of these runs a model's rollout: an endpoint's, or an inference component's
rolling update on a shared fleet."""


@dataclass(frozen=True)
class ModelChange:
    """One model's part of a diff of a stack of many models (``name`` None: the platform):
    its operations, its facts on both sides and the resources it changes."""

    name: str | None
    operations: Operations
    facts: tuple[FactChange, ...]
    changes: tuple[ResourceChange, ...]
    """Its resources an update touches (created, updated, replaced or deleted)."""

    @property
    def changed(self) -> bool:
        return bool(self.changes) or any(f.changed for f in self.facts)

    @property
    def title(self) -> str:
        return "Platform" if self.name is None else f"Model `{self.name}`"

    def lines(self) -> list[str]:
        """Markdown: its operations, marked replaces and deletes, and its facts (changed
        ones first, as base -> head)."""
        out = [f"**{self.title}**: {self.operations.line()}"]
        out += [f"> ⚠️ {line}" for line in self.operations.marked_lines()]
        return [*out, "", *_fact_table(self.facts)]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "changed": self.changed,
            "operations": self.operations.to_json(),
            "facts": [f.to_json() for f in self.facts],
            "resources": [c.key for c in self.changes],
        }


def _fact_table(facts: Iterable[FactChange]) -> list[str]:
    facts = list(facts)
    out = ["| | | base -> head |", "|---|---|---|"]
    out += [
        f"| {f.group} | **{f.label}** | **{table_cell(f.text())}** |" for f in facts if f.changed
    ]
    out += [f"| {f.group} | {f.label} | {table_cell(f.text())} |" for f in facts if not f.changed]
    return out


@dataclass(frozen=True)
class DiffReview:
    """The summary of a diff: both sides' facts paired, tier and enforcement first; in a
    stack of many models, grouped per model (only the changed ones) and the platform."""

    base: Summary
    head: Summary
    facts: tuple[FactChange, ...]
    operations: Operations
    deploys: bool
    """Whether the change deploys a SageMaker endpoint or inference component (runs its
    rollout)."""
    models: tuple[ModelChange, ...] = ()
    """The models the change touches, in the head's order (a stack of many models)."""
    unchanged_models: tuple[str, ...] = ()
    """The models it leaves as they are."""
    platform: ModelChange | None = None
    """The platform's part (a stack of many models)."""
    deploying: tuple[str, ...] = ()
    """The models whose rollout the change runs (a stack of many models)."""
    owners: Mapping[str, str | None] = field(default_factory=dict)
    """The model of each changed resource by its key (a stack of many models)."""

    @property
    def grouped(self) -> bool:
        """Whether facts and operations are told per model (either side has many models)."""
        return self.base.grouped or self.head.grouped

    @property
    def rollout_seconds(self) -> int:
        """How long this change's deployment runs a second fleet (0 when none runs)."""
        if not self.deploys:
            return 0
        if not self.grouped:
            return self.head.cost.second_fleet_seconds
        costs = [m.cost for m in self._deploying()]
        return max((c.second_fleet_seconds for c in costs), default=0)

    @property
    def rollout_cost(self) -> float | None:
        """The second fleet's cost during this change's deployment (0 when none runs)."""
        if not self.deploys:
            return 0.0
        if not self.grouped:
            return self.head.cost.second_fleet
        costs = [m.cost for m in self._deploying() if m.cost.second_fleet_seconds]
        if any(c.second_fleet is None for c in costs):
            return None
        return sum((c.second_fleet or 0.0 for c in costs), 0.0)

    def _deploying(self) -> list[ModelSummary]:
        return [m for m in (self.head.model(n) for n in self.deploying) if m is not None]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "facts": [f.to_json() for f in self.facts],
            "operations": self.operations.to_json(),
            "cost": {
                "currency": currency(),
                "hourlyBefore": self.base.cost.hourly,
                "hourlyAfter": self.head.cost.hourly,
                "deploys": self.deploys,
                "duringRollout": self.rollout_cost,
                "duringRolloutSeconds": self.rollout_seconds,
            },
        }
        if self.grouped:
            out["models"] = [m.to_json() for m in self.models]
            out["unchangedModels"] = list(self.unchanged_models)
            out["platform"] = self.platform.to_json() if self.platform else None
            out["cost"]["deployingModels"] = list(self.deploying)
        return out

    def lead_lines(self) -> list[str]:
        """A change of tier or enforcement: the very first lines of the diff. A stack new at
        the head (nothing at the base) leads with its tier and enforcement instead."""
        if not self.base.stack:
            return [f"**⚠️ new stack: {self.head.tier} tier, {self.head.enforcement} enforcement**"]
        stack = [f for f in self.facts if f.group == "stack" and f.changed]
        return [f"**⚠️ {f.label} changes: {f.text()}**" for f in stack]

    def lines(self) -> list[str]:
        """Markdown lines: the operations (marked replaces and deletes), the facts (changed
        ones first, as base -> head) and the cost of the change; in a stack of many models
        per changed model, then the unchanged ones named, then the platform."""
        out = [f"**{self.operations.line()}**"]
        if self.grouped:
            out += self._grouped_lines()
        else:
            out += [f"> ⚠️ {line}" for line in self.operations.marked_lines()]
            out += ["", *_fact_table(f for f in self.facts if f.group != "cost")]
        out += ["", f"**Cost (on-demand, {self.head.region})**: {self.cost_line()}"]
        out += [
            f"- {f.label}: {table_cell(f.text())}"
            for f in self.facts
            if f.group == "cost" and f.model is None and f.label != "hourly (on-demand)"
        ]
        return out

    def _grouped_lines(self) -> list[str]:
        out: list[str] = []
        for model in self.models:
            out += ["", *model.lines()]
        if self.unchanged_models:
            names = ", ".join(self.unchanged_models)
            out += ["", f"**{_count(len(self.unchanged_models), 'model')} unchanged**: {names}"]
        if self.platform is not None and self.platform.changed:
            out += ["", *self.platform.lines()]
        elif self.platform is not None:
            context = ", ".join(f"{f.label} {f.head}" for f in self.platform.facts[:2])
            out += ["", f"**Platform**: unchanged ({context})"]
        return out

    def cost_line(self) -> str:
        before = _money(self.base.cost.hourly, "/h")
        after = _money(self.head.cost.hourly, "/h")
        text = f"{before}{ARROW}{after}"
        if self.deploys and self.rollout_seconds:
            text += (
                f"; during the rollout +{_money(self.rollout_cost, '')} "
                f"(second fleet for {self.rollout_seconds} s)"
            )
        elif self.deploys:
            text += "; the rollout runs no second fleet"
        return text


def table_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


_STACK_FIRST = ("stack",)


def _keyed(summary: Summary) -> dict[tuple[str | None, str, str], str]:
    """A summary's facts by (model, group, label)."""
    return {(f.model, f.group, f.label): f.value for f in summary.facts()}


def review_diff(base: Document, head: Document, changes: Iterable[ResourceChange]) -> DiffReview:
    """The review of a change from ``base`` to ``head`` whose operations are ``changes``
    (every resource's, unchanged ones included). Facts pair by model, group and label."""
    changes = list(changes)
    before, after = summarize(base), summarize(head)
    grouped = before.grouped or after.grouped
    # A single-model side facing a stack of many (a migration) is told as a stack of one.
    if grouped and not before.grouped:
        before = summarize(base, per_model=True)
    if grouped and not after.grouped:
        after = summarize(head, per_model=True)
    old, new = _keyed(before), _keyed(after)
    keys = [*new, *(k for k in old if k not in new)]
    keys.sort(key=lambda k: 0 if k[1] in _STACK_FIRST else 1)
    facts = tuple(
        FactChange(label, old.get((m, g, label)), new.get((m, g, label)), g, m)
        for m, g, label in keys
    )
    deployed = [
        c
        for c in changes
        if c.type in DEPLOYED_TYPES and c.operation in (Operation.UPDATE, Operation.REPLACE)
    ]
    if not grouped:
        return DiffReview(before, after, facts, operations_of(changes), bool(deployed))
    owners = owners_by_key(base, head)
    names = [m.name for m in after.models]
    names += [m.name for m in before.models if m.name not in names]
    by_owner: dict[str | None, list[ResourceChange]] = {}
    for change in changes:
        by_owner.setdefault(owners.get(change.key), []).append(change)
    names += [n for n in by_owner if n is not None and n not in names]

    def part(name: str | None, keep: Iterable[FactChange]) -> ModelChange:
        mine = by_owner.get(name, [])
        touched = tuple(c for c in mine if c.operation is not Operation.SAME)
        return ModelChange(name, operations_of(mine), tuple(keep), touched)

    parts = [part(n, (f for f in facts if f.model == n)) for n in names]
    platform = part(None, (f for f in facts if f.model is None and f.group != "cost"))
    deploying = tuple(
        dict.fromkeys(m for m in (owners.get(c.key) for c in deployed) if m is not None)
    )
    return DiffReview(
        before,
        after,
        facts,
        operations_of(changes),
        bool(deployed),
        models=tuple(p for p in parts if p.changed),
        unchanged_models=tuple(str(p.name) for p in parts if not p.changed),
        platform=platform,
        deploying=deploying,
        owners={c.key: owners.get(c.key) for c in changes if c.operation is not Operation.SAME},
    )
