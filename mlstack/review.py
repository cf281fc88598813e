"""The reviewer summary that leads ``mlstack plan`` and ``mlstack diff``.

One data structure, rendered as text (the plan), Markdown (the diff) and JSON (both): the
stack's tier and enforcement, per serving path the model version, image, capacity and
scaling, the rollout timeline and its rollback alarms in the config's units, the operations
an update would run (replaces and deletes of stateful or serving resources marked) and the
on-demand hourly cost before and after, with the second fleet's cost during a blue/green
deployment.

Every value is read from the resolved config the plan document carries under ``"config"``
(:func:`infra.config.resolved_document`), never re-derived: the rollout is compiled by
:func:`infra.rollout.timeline`, units come from :class:`infra.config.RollbackMetric`. Which
models and serving paths a stack has is answered by :func:`serving_paths` alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from infra.config import (
    PROJECT,
    ConfigError,
    RolloutPolicy,
    build_config,
    resolved_document,
)
from infra.config.rollout import ROLLBACK_PERIOD_SECONDS, RollbackAlarm
from infra.rollout import Timeline, timeline
from mlstack.diff_data.prices import Service, currency, hourly_price, source
from mlstack.offline.secrets import Fingerprinter
from mlstack.operations import Operation, ResourceChange, counts, operations

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
# Serving paths
# ---------------------------------------------------------------------------------------------


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
    """What the path costs by the hour."""
    blue_green_fleet: Fleet | None = None
    """The fleet a blue/green deployment brings up beside the old one."""


def _package_group(config: dict[str, Any]) -> str:
    model = section(config, "model")
    return str(
        model.get("packageGroupName") or section(config, "registry").get("modelPackageGroupName")
    )


def _sagemaker_path(config: dict[str, Any]) -> ServingPath | None:
    sagemaker = section(config, "sagemaker")
    if not sagemaker.get("enabled"):
        return None
    model = section(config, "model")
    group = _package_group(config)
    if model.get("packageVersion") is not None:
        version = f"{group} v{model['packageVersion']}"
        image = "from the model package"
    else:
        version = str(model.get("artifactUri") or "(no artifact)")
        image = str(model.get("imageUri"))
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


def _eks_path(config: dict[str, Any]) -> ServingPath | None:
    eks = section(config, "eks")
    if not eks.get("enabled"):
        return None
    serving = section(config, "kubernetes")
    image = serving.get("imageDigest") or (
        f"tag {serving['imageTag']}" if serving.get("imageTag") else "(no image pinned)"
    )
    nodes = eks.get("nodeGroup") or {}
    types = [str(t) for t in nodes.get("instanceTypes") or []]
    facts = (
        ("image", str(image)),
        (
            "replicas",
            f"{serving.get('minReplicas')}-{serving.get('maxReplicas')} pods "
            f"(HPA at {serving.get('targetCpuUtilizationPercent')}% CPU)",
        ),
        (
            "nodes",
            f"{nodes.get('desiredSize')} x {', '.join(types)} "
            f"({nodes.get('minSize')}-{nodes.get('maxSize')}, {nodes.get('capacityType')})",
        ),
    )
    # A node group of several types launches any of them: the first one is priced.
    label = "EKS nodes"
    if nodes.get("capacityType") == "SPOT":
        label += " (SPOT: the on-demand price is an upper bound)"
    fleets = (Fleet("ec2", types[0], int(nodes["desiredSize"]), label),) if types else ()
    model = str(serving.get("modelArtifact"))
    if serving.get("modelVersion") is not None:
        model = f"{_package_group(config)} v{serving['modelVersion']} ({model})"
    return ServingPath("EKS", model, facts, fleets)


def serving_paths(config: dict[str, Any]) -> list[ServingPath]:
    """The serving paths of a stack's resolved config: SageMaker and EKS, each when enabled.

    The one place that knows which models a stack serves and where; with many models per
    stack it returns one entry per model and path.
    """
    return [p for p in (_sagemaker_path(config), _eks_path(config)) if p is not None]


# ---------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One line of the summary: ``group`` (``stack``, ``SageMaker``, ``rollout``, ...),
    ``label`` and the value as the reviewer reads it."""

    group: str
    label: str
    value: str


@dataclass(frozen=True)
class Cost:
    """On-demand cost in USD, or None where a price is not known."""

    hourly: float | None
    fleets: tuple[dict[str, Any], ...] = ()
    second_fleet_seconds: int = 0
    second_fleet: float | None = None
    """Extra cost of one blue/green deployment: the second fleet for its duration."""


@dataclass(frozen=True)
class Summary:
    """What a reviewer reads first about one plan."""

    stack: str
    tier: str
    enforcement: str
    paths: tuple[ServingPath, ...]
    timeline: Timeline | None
    rollback_alarms: tuple[str, ...]
    cost: Cost
    region: str

    def facts(self) -> list[Fact]:
        """Every fact in display order."""
        out = [
            Fact("stack", "tier", self.tier),
            Fact("stack", "enforcement", self.enforcement),
        ]
        for path in self.paths:
            out.append(Fact(path.kind, "model", path.model))
            out += [Fact(path.kind, label, value) for label, value in path.facts]
        if self.timeline is not None:
            steps = self.timeline.describe(with_alarms=False)
            out.append(Fact("rollout", "timeline", f"{self.timeline.strategy}: {steps}"))
            out.append(
                Fact("rollout", "rollback alarms", ", ".join(self.rollback_alarms) or "none")
            )
        out.append(Fact("cost", "hourly (on-demand)", _money(self.cost.hourly, "/h")))
        for fleet in self.cost.fleets:
            out.append(Fact("cost", fleet["label"], _fleet_text(fleet)))
        if self.cost.second_fleet_seconds:
            out.append(
                Fact(
                    "cost",
                    "each blue/green deployment",
                    f"second fleet for {self.cost.second_fleet_seconds} s: "
                    f"{_money(self.cost.second_fleet, '')}",
                )
            )
        out.append(Fact("cost", "prices", price_source()))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "tier": self.tier,
            "enforcement": self.enforcement,
            "region": self.region,
            "paths": [
                {"kind": p.kind, "model": p.model, **{label: value for label, value in p.facts}}
                for p in self.paths
            ],
            "rollout": None
            if self.timeline is None
            else {
                "strategy": self.timeline.strategy,
                "timeline": self.timeline.describe(with_alarms=False),
                "secondFleetSeconds": self.timeline.second_fleet_seconds,
                "rollbackAlarms": list(self.rollback_alarms),
            },
            "cost": {
                "currency": currency(),
                "hourly": self.cost.hourly,
                "fleets": list(self.cost.fleets),
                "secondFleetSeconds": self.cost.second_fleet_seconds,
                "secondFleet": self.cost.second_fleet,
            },
            "facts": [asdict(f) for f in self.facts()],
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


def _cost(paths: Iterable[ServingPath], region: str, rollout: Timeline | None) -> Cost:
    fleets: list[dict[str, Any]] = []
    for path in paths:
        for fleet in path.fleets:
            unit = hourly_price(fleet.service, region, fleet.instance_type)
            fleets.append(
                {
                    "label": fleet.label,
                    "service": fleet.service,
                    "instanceType": fleet.instance_type,
                    "count": fleet.count,
                    "unitPrice": unit,
                    "hourly": None if unit is None else unit * fleet.count,
                }
            )
    hourly = None if any(f["hourly"] is None for f in fleets) else sum(f["hourly"] for f in fleets)
    green = next((p.blue_green_fleet for p in paths if p.blue_green_fleet), None)
    seconds = rollout.second_fleet_seconds if rollout is not None and green else 0
    extra: float | None = None
    if seconds and green is not None:
        unit = hourly_price(green.service, region, green.instance_type)
        extra = None if unit is None else unit * green.count * seconds / 3600
    return Cost(hourly, tuple(fleets), seconds, extra)


def summarize(doc: Document) -> Summary:
    """The summary of one plan document (``mlstack plan --json`` or a diff side)."""
    config = resolved_config(doc)
    policy = rollout_policy(config)
    paths = tuple(serving_paths(config))
    rollout = timeline(policy) if policy is not None else None
    region = str(config.get("aws:region") or UNKNOWN)
    # The rollout compiles to the SageMaker endpoint; without one nothing runs it.
    has_endpoint = any(p.kind == "SageMaker" for p in paths)
    return Summary(
        stack=str(doc.get("stack") or ""),
        tier=str(doc.get("tier") or config.get(f"{_PROJECT}environment") or UNKNOWN),
        enforcement=str(section(config, "policy").get("enforcement") or UNKNOWN),
        paths=paths,
        timeline=rollout if has_endpoint or any(p.kind == "EKS" for p in paths) else None,
        rollback_alarms=tuple(
            rollback_alarm_text(a) for a in (policy.rollback_alarms if policy else [])
        ),
        cost=_cost(paths, region, rollout if has_endpoint else None),
        region=region,
    )


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
    lines, group = [], None
    for fact, text in items:
        if fact.group != group:
            group = fact.group
            lines.append(f"  {group}")
        lines.append(f"    {fact.label}: {text}")
    return lines


# ---------------------------------------------------------------------------------------------
# Diff: base -> head
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactChange:
    """A value of either side of a change; ``base`` or ``head`` is None where that side
    lacks it. ``group`` is the summary's section (``stack``, ``SageMaker``, ...)."""

    label: str
    base: str | None
    head: str | None
    group: str = ""

    @property
    def changed(self) -> bool:
        return self.base != self.head

    def text(self) -> str:
        if not self.changed:
            return str(self.head)
        return f"{self.base or '(none)'}{ARROW}{self.head or '(none)'}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}


@dataclass(frozen=True)
class DiffReview:
    """The summary of a diff: both sides' facts paired, tier and enforcement first."""

    base: Summary
    head: Summary
    facts: tuple[FactChange, ...]
    operations: Operations
    deploys: bool
    """Whether the change deploys the SageMaker endpoint (runs its rollout)."""

    @property
    def rollout_cost(self) -> float | None:
        """The second fleet's cost during this change's deployment (0 when none runs)."""
        return self.head.cost.second_fleet if self.deploys else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
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
                "duringRolloutSeconds": self.head.cost.second_fleet_seconds if self.deploys else 0,
            },
        }

    def lead_lines(self) -> list[str]:
        """A change of tier or enforcement: the very first lines of the diff."""
        stack = [f for f in self.facts if f.group == "stack" and f.changed]
        return [f"**⚠️ {f.label} changes: {f.text()}**" for f in stack]

    def lines(self) -> list[str]:
        """Markdown lines: the operations (marked replaces and deletes), the facts (changed
        ones first, as base -> head) and the cost of the change."""
        out = [f"**{self.operations.line()}**"]
        out += [f"> ⚠️ {line}" for line in self.operations.marked_lines()]
        out += ["", "| | | base -> head |", "|---|---|---|"]
        changed = [f for f in self.facts if f.changed and f.group != "cost"]
        unchanged = [f for f in self.facts if not f.changed and f.group != "cost"]
        out += [f"| {f.group} | **{f.label}** | **{table_cell(f.text())}** |" for f in changed]
        out += [f"| {f.group} | {f.label} | {table_cell(f.text())} |" for f in unchanged]
        out += ["", f"**Cost (on-demand, {self.head.region})**: {self.cost_line()}"]
        out += [
            f"- {f.label}: {table_cell(f.text())}"
            for f in self.facts
            if f.group == "cost" and f.label != "hourly (on-demand)"
        ]
        return out

    def cost_line(self) -> str:
        before = _money(self.base.cost.hourly, "/h")
        after = _money(self.head.cost.hourly, "/h")
        text = f"{before}{ARROW}{after}"
        if self.deploys and self.head.cost.second_fleet_seconds:
            text += (
                f"; during the rollout +{_money(self.rollout_cost, '')} "
                f"(second fleet for {self.head.cost.second_fleet_seconds} s)"
            )
        elif self.deploys:
            text += "; the rollout runs no second fleet"
        return text


def table_cell(text: str) -> str:
    return text.replace("|", "\\|")


_STACK_FIRST = ("stack",)


def review_diff(base: Document, head: Document, changes: Iterable[ResourceChange]) -> DiffReview:
    """The review of a change from ``base`` to ``head`` whose operations are ``changes``."""
    changes = list(changes)
    before, after = summarize(base), summarize(head)
    old = {(f.group, f.label): f.value for f in before.facts()}
    new = {(f.group, f.label): f.value for f in after.facts()}
    keys = [*new, *(k for k in old if k not in new)]
    keys.sort(key=lambda k: 0 if k[0] in _STACK_FIRST else 1)
    facts = tuple(
        FactChange(label, old.get((g, label)), new.get((g, label)), g) for g, label in keys
    )
    deploys = any(
        c.type == "aws:sagemaker/endpoint:Endpoint"
        and c.operation in (Operation.UPDATE, Operation.REPLACE)
        for c in changes
    )
    return DiffReview(before, after, facts, operations_of(changes), deploys)
