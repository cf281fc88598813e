"""What changes between two offline plans: pure functions over plan documents.

A plan document is the JSON of ``mlstack plan --json`` plus two optional keys written by the
diff runner: ``config`` (the stack config as the program received it, in the CLI's string
encoding, secrets already replaced by placeholders) and ``secretKeys``. Resources of the two
plans are matched by their URN without the stack and project (``type$...::name``), so the
same functions serve ``mlstack diff`` (one stack at two commits) and ``mlstack compare``
(two stacks at one commit).

Secrets never reach a plan (they are placeholders there, ``[secret:<keyed fingerprint>]``,
see :mod:`mlstack.offline.secrets`), and this module renders any value that is a placeholder
or belongs to a secret config key as ``(secret)``; a changed secret reads "[secret] changed".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from infra.config.monitoring import config_unit, to_config_units
from infra.config.types import SECRET_FINGERPRINT, SECRET_PLACEHOLDER
from mlstack.operations import (
    InputChange,
    Operation,
    ResourceChange,
    counts,
    operations,
    resource_key,
)
from mlstack.review import (
    DiffReview,
    FactChange,
    alarm_window,
    many_models,
    resolved_config,
    review_diff,
    section,
    stack_models,
)
from policy_pack.type_tokens import (
    APPAUTOSCALING_TARGET,
    CLOUDWATCH_METRIC_ALARM,
    KUBERNETES_PREFIX,
    SAGEMAKER_ENDPOINT,
    SAGEMAKER_ENDPOINT_CONFIGURATION,
    SAGEMAKER_MODEL,
)

SECRET_SHOWN = "(secret)"
"""How a secret value reads in a diff."""
ABSENT = "(none)"
"""How a value that one side does not have reads in a diff."""
MAX_VALUE_CHARS = 120
"""Longer values are cut in Markdown (the JSON keeps them whole)."""
MAX_MARKDOWN_CHARS = 60_000
"""GitHub refuses comments over 65,536 characters; longer diffs are cut with a note."""

Document = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


Highlight = FactChange
"""A value reviewers care about (model version, image, sizing, rollout, alarms), both sides."""


@dataclass(frozen=True)
class PolicyChange:
    """A policy violation that appears (``new``) or disappears (``resolved``)."""

    action: str
    policy: str
    level: str
    resource: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "policy": self.policy,
            "level": self.level,
            "resource": self.resource,
            "message": self.message,
        }


@dataclass(frozen=True)
class PlanDiff:
    """Everything that differs between a base and a head plan."""

    base_label: str
    head_label: str
    changes: tuple[ResourceChange, ...]
    unchanged: int
    highlights: tuple[Highlight, ...]
    policy: tuple[PolicyChange, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    review: DiffReview | None = None
    """The reviewer summary of the change (:mod:`mlstack.review`)."""

    def of_operation(self, operation: Operation) -> list[ResourceChange]:
        return [c for c in self.changes if c.operation is operation]

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.policy

    def _resource_json(self, change: ResourceChange) -> dict[str, Any]:
        """A change as JSON; in a stack of many models with the model it belongs to
        (``"model": null``: the platform)."""
        if self.review is None or not self.review.grouped:
            return change.to_json()
        return {**change.to_json(), "model": self.review.owners.get(change.key)}

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base_label,
            "head": self.head_label,
            "summary": self.review.to_json() if self.review else None,
            "highlights": [h.to_json() for h in self.highlights],
            "resources": [self._resource_json(c) for c in self.changes],
            "policy": [p.to_json() for p in self.policy],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------


def diff_resources(
    base: Document, head: Document, changes: list[ResourceChange] | None = None
) -> tuple[tuple[ResourceChange, ...], int]:
    """The resources an update would touch (in head's order, deletions last), and the number
    it leaves as they are. ``changes`` are the operations when already computed."""
    changes = operations(base, head) if changes is None else changes
    touched = tuple(c for c in changes if c.operation is not Operation.SAME)
    return touched, len(changes) - len(touched)


def diff_policy(base: Document, head: Document) -> tuple[PolicyChange, ...]:
    """Violations new in head, then violations head resolved."""

    def entries(doc: Document) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {
            (p["policy"], resource_key(p.get("urn") or "-"), p["message"]): p
            for p in doc.get("policy", [])
        }

    before, after = entries(base), entries(head)
    new = [
        PolicyChange("new", k[0], after[k]["level"], k[1], k[2]) for k in after if k not in before
    ]
    resolved = [
        PolicyChange("resolved", k[0], before[k]["level"], k[1], k[2])
        for k in before
        if k not in after
    ]
    return tuple(new + resolved)


# ---------------------------------------------------------------------------------------------
# Highlights: what reviewers care about
# ---------------------------------------------------------------------------------------------


def _config_object(doc: Document, key: str) -> dict[str, Any]:
    value = resolved_config(doc).get(key)
    return value if isinstance(value, dict) else {}


def _of_type(doc: Document, *types: str) -> list[dict[str, Any]]:
    return [r for r in doc.get("resources", []) if r["type"] in types]


def _num(value: Any) -> str:
    """Numbers as people write them: ``3`` not ``3.0`` (the engine sends floats)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _model_highlights(doc: Document, per_model: bool = False) -> dict[str, str]:
    """Versions, shadow, image and artifact of the model (of each model, ``· <model>``, in a
    stack of many models or when ``per_model``: a single-model stack facing one)."""
    out: dict[str, str] = {}
    config = resolved_config(doc)
    models = stack_models(config, single_as_one=per_model)
    views = [("", config)] if models is None else [(f" · {m.name}", m.view) for m in models]
    for where, view in views:
        model = section(view, "model")
        group = model.get("packageGroupName") or section(view, "registry").get(
            "modelPackageGroupName", "mlstack-models"
        )
        if model.get("packageVersion") is not None:
            out[f"model package version{where}"] = f"{group} v{model['packageVersion']}"
        shadow = model.get("shadow") or {}
        if shadow.get("packageVersion") is not None:
            out[f"shadow model version{where}"] = (
                f"{group} v{shadow['packageVersion']}, {shadow.get('samplingPercent', 10)}% copied"
            )
        for key in ("imageUri", "artifactUri"):
            if model.get(key):
                out[f"model {key}{where}"] = str(model[key])
    for resource in _of_type(doc, SAGEMAKER_MODEL):
        inputs = resource.get("inputs") or {}
        containers = [inputs.get("primaryContainer") or {}, *(inputs.get("containers") or [])]
        for index, container in enumerate(c for c in containers if c):
            where = resource["name"] if index == 0 else f"{resource['name']}[{index}]"
            if container.get("modelPackageName"):
                out[f"model package · {where}"] = str(container["modelPackageName"])
            if container.get("image"):
                out[f"image · {where}"] = str(container["image"])
    return out


def _pod_images(doc: Document) -> dict[str, str]:
    out: dict[str, str] = {}
    for resource in doc.get("resources", []):
        if not resource["type"].startswith(KUBERNETES_PREFIX):
            continue
        spec = ((resource.get("inputs") or {}).get("spec") or {}).get("template") or {}
        for container in (spec.get("spec") or {}).get("containers") or []:
            if isinstance(container, dict) and container.get("image"):
                label = f"image · {resource['name']}/{container.get('name', '?')}"
                out[label] = str(container["image"])
    return out


def _sizing_highlights(doc: Document) -> dict[str, str]:
    out: dict[str, str] = {}
    configs = _of_type(doc, SAGEMAKER_ENDPOINT_CONFIGURATION)
    for resource in configs:
        inputs = resource.get("inputs") or {}
        for kind in ("productionVariants", "shadowProductionVariants"):
            for variant in inputs.get(kind) or []:
                label = f"instances · {resource['name']}/{variant.get('variantName', '?')}"
                serverless = variant.get("serverlessConfig")
                if serverless:
                    out[label] = (
                        f"serverless {_num(serverless.get('memorySizeInMb'))} MB, "
                        f"{_num(serverless.get('maxConcurrency'))} concurrent"
                    )
                else:
                    out[label] = (
                        f"{_num(variant.get('initialInstanceCount'))} x "
                        f"{variant.get('instanceType')}"
                    )
    sagemaker = _config_object(doc, "mlstack:sagemaker")
    if not configs and sagemaker.get("enabled", True) and "instanceType" in sagemaker:
        out["instances"] = f"{sagemaker.get('instanceCount', 1)} x {sagemaker['instanceType']}"
    for resource in _of_type(doc, APPAUTOSCALING_TARGET):
        inputs = resource.get("inputs") or {}
        if "minCapacity" in inputs or "maxCapacity" in inputs:
            out[f"autoscaling · {resource['name']}"] = (
                f"{_num(inputs.get('minCapacity'))}-{_num(inputs.get('maxCapacity'))} instances"
            )
    return out


OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def variant_instance_types(doc: Document) -> dict[tuple[str, str], str]:
    """``(endpoint name, variant name) -> instance type`` of every endpoint in a plan."""
    configs = {r["urn"]: r for r in _of_type(doc, SAGEMAKER_ENDPOINT_CONFIGURATION)}
    out: dict[tuple[str, str], str] = {}
    for endpoint in _of_type(doc, SAGEMAKER_ENDPOINT):
        deps = ((endpoint.get("options") or {}).get("propertyDependencies") or {}).get(
            "endpointConfigName"
        ) or []
        found = [configs[urn] for urn in deps if urn in configs]
        if not found and len(configs) == 1:
            found = list(configs.values())
        for config in found:
            inputs = config.get("inputs") or {}
            for kind in ("productionVariants", "shadowProductionVariants"):
                for variant in inputs.get(kind) or []:
                    if variant.get("instanceType"):
                        key = (
                            str((endpoint.get("inputs") or {}).get("name")),
                            variant["variantName"],
                        )
                        out[key] = str(variant["instanceType"])
    return out


def _alarm_metric(inputs: dict[str, Any]) -> tuple[str | None, str, Any, dict[str, Any]]:
    """``(metric name, what it watches, period, dimensions)`` of an alarm; for metric math the
    first metric queried names it and the returned expression's label says what it watches."""
    queries = inputs.get("metricQueries") or []
    if not queries:
        stat = inputs.get("extendedStatistic") or inputs.get("statistic") or ""
        name = inputs.get("metricName")
        return name, f"{name} {stat}".strip(), inputs.get("period"), inputs.get("dimensions") or {}
    metrics = [q["metric"] for q in queries if q.get("metric")]
    first = metrics[0] if metrics else {}
    result = next((q for q in queries if q.get("returnData")), queries[-1])
    watched = str(result.get("label") or result.get("expression") or first.get("metricName"))
    watched = watched.removesuffix(" (%)")  # the unit follows the threshold
    return first.get("metricName"), watched, first.get("period"), first.get("dimensions") or {}


def alarm_threshold(inputs: dict[str, Any], instance_types: dict[tuple[str, str], str]) -> str:
    """An alarm's threshold as the config states it: ``500 ms``, ``80 %``.

    Converted back by the program's own conversion
    (:func:`infra.config.monitoring.to_config_units`); a threshold whose scale depends on an
    unknown instance type is shown as the metric has it, and says so."""
    metric, _, _, dimensions = _alarm_metric(inputs)
    instance_type = instance_types.get(
        (str(dimensions.get("EndpointName")), str(dimensions.get("VariantName")))
    )
    raw = inputs.get("threshold")
    threshold = None
    if isinstance(raw, int | float):
        threshold = to_config_units(metric, raw, instance_type)
    if threshold is None:
        return f"{_num(raw)} (as {metric} reports it)"
    return f"{_num(round(threshold, 6))} {config_unit(metric)}".rstrip()


def alarm_summary(inputs: dict[str, Any], instance_types: dict[tuple[str, str], str]) -> str:
    """An alarm as the config states it: ``ModelLatency p99 > 500 ms, 3 of 5 x 60 s``."""
    _, watched, period, _ = _alarm_metric(inputs)
    operator = OPERATORS.get(inputs.get("comparisonOperator", ""), "?")
    periods = inputs.get("evaluationPeriods")
    window = alarm_window(inputs.get("datapointsToAlarm") or periods, periods, period)
    return f"{watched} {operator} {alarm_threshold(inputs, instance_types)}, {window}"


def _alarm_highlights(doc: Document) -> dict[str, str]:
    types = variant_instance_types(doc)
    out: dict[str, str] = {}
    for resource in _of_type(doc, CLOUDWATCH_METRIC_ALARM):
        inputs = resource.get("inputs") or {}
        name = inputs.get("name") or resource["name"]
        out[f"alarm · {name}"] = alarm_summary(inputs, types)
    return out


HIGHLIGHTS: list[Callable[[Document], dict[str, str]]] = [
    _model_highlights,
    _pod_images,
    _sizing_highlights,
    _alarm_highlights,
]
"""Extractors of reviewer-relevant values, in display order."""


def _extractors(base: Document, head: Document) -> list[Callable[[Document], dict[str, str]]]:
    """:data:`HIGHLIGHTS`; the model's read per model on both sides when either side has
    many models, so a migrated stack pairs with its single-model self."""
    if not any(many_models(resolved_config(doc)) for doc in (base, head)):
        return HIGHLIGHTS
    return [partial(_model_highlights, per_model=True), *HIGHLIGHTS[1:]]


def _holds_secret(text: str) -> bool:
    """The text holds a secret placeholder, fingerprinted or not."""
    return SECRET_PLACEHOLDER in text or SECRET_FINGERPRINT.search(text) is not None


def _scrub(value: str) -> str:
    return SECRET_SHOWN if _holds_secret(value) else value


def highlights(base: Document, head: Document) -> tuple[Highlight, ...]:
    """Every highlighted value of either plan, with both sides."""
    out: list[Highlight] = []
    for extract in _extractors(base, head):
        before, after = extract(base), extract(head)
        for label in [*after, *(k for k in before if k not in after)]:
            old, new = before.get(label), after.get(label)
            out.append(
                Highlight(
                    label,
                    None if old is None else _scrub(old),
                    None if new is None else _scrub(new),
                )
            )
    return tuple(out)


def with_config_units(
    changes: Iterable[ResourceChange], base: Document, head: Document
) -> tuple[ResourceChange, ...]:
    """Alarm threshold changes annotated with the thresholds in the config's units (the
    engine sees microseconds and vCPU sums; the stack file says ms and percent)."""
    out = []
    for change in changes:
        if change.type == CLOUDWATCH_METRIC_ALARM and any(
            i.path == "threshold" for i in change.inputs
        ):
            before, after = _config_threshold(base, change.key), _config_threshold(head, change.key)
            inputs = tuple(
                replace(i, note=f"{before} -> {after} as configured")
                if i.path == "threshold" and before and after
                else i
                for i in change.inputs
            )
            change = replace(change, inputs=inputs)
        out.append(change)
    return tuple(out)


def _config_threshold(doc: Document, key: str) -> str | None:
    """``500 ms``: the threshold of an alarm of ``doc`` in config units."""
    resource = next((r for r in doc.get("resources", []) if resource_key(r["urn"]) == key), None)
    if resource is None:
        return None
    return alarm_threshold(resource.get("inputs") or {}, variant_instance_types(doc))


def _fingerprints(doc: Document) -> bool:
    """Whether the plan's secrets carry fingerprints (plans made before them do not)."""
    text = json.dumps(doc.get("resources", []))
    return SECRET_FINGERPRINT.search(text) is not None or SECRET_PLACEHOLDER not in text


def diff_plans(
    base: Document,
    head: Document,
    base_label: str,
    head_label: str,
    notes: Iterable[str] = (),
) -> PlanDiff:
    """The whole diff of two plan documents."""
    every = operations(base, head)
    changes, unchanged = diff_resources(base, head, every)
    changes = with_config_units(changes, base, head)
    fingerprinted = [_fingerprints(doc) for doc in (base, head)]
    if fingerprinted[0] != fingerprinted[1] and base.get("resources"):
        side = base_label if not fingerprinted[0] else head_label
        notes = [*notes, f"{side}: a plan without secret fingerprints; secrets were not compared"]
    return PlanDiff(
        base_label=base_label,
        head_label=head_label,
        changes=changes,
        unchanged=unchanged,
        highlights=highlights(base, head),
        policy=diff_policy(base, head),
        notes=tuple(notes),
        review=review_diff(base, head, every),
    )


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _code(value: Any, limit: int | None = MAX_VALUE_CHARS) -> str:
    """A value as inline Markdown code, secrets hidden, cut at ``limit`` characters."""
    if value is None:
        return ABSENT
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if _holds_secret(text):
        return SECRET_SHOWN
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    text = text.replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _short_type(type_token: str) -> str:
    return type_token.split(":")[-1]


def _highlight_lines(items: tuple[Highlight, ...], *, unchanged: bool = True) -> list[str]:
    """Changed values in a table (never cut: image digests stay whole), unchanged ones
    folded away (or left out when ``unchanged`` is false: a stack of many models, whose
    unchanged models the diff does not show)."""
    changed = [h for h in items if h.changed]
    same = [h for h in items if not h.changed] if unchanged else []
    lines = ["#### What reviewers care about", ""]
    if changed:
        lines += ["| | base | head |", "|---|---|---|"]
        lines += [
            f"| **{h.label}** ⚠️ | {_code(h.base, None)} | **{_code(h.head, None)}** |"
            for h in changed
        ]
    else:
        lines.append("No highlighted value changes.")
    if same:
        lines += ["", f"<details><summary>Unchanged ({len(same)})</summary>", ""]
        lines += ["| | value |", "|---|---|"]
        lines += [f"| {h.label} | {_code(h.head, None)} |" for h in same]
        lines += ["", "</details>"]
    return [*lines, ""]


OPERATION_HEADINGS = (
    (Operation.REPLACE, "Replaced"),
    (Operation.DELETE, "Deleted"),
    (Operation.CREATE, "Created"),
    (Operation.UPDATE, "Updated"),
)
"""Operation sections in the order a reviewer should read them: destructive first."""


def _change_value(item: InputChange) -> str:
    if item.secret:
        return item.secret_change
    return f"{_code(item.base)} → {_code(item.head)}"


def _change_lines(change: ResourceChange) -> list[str]:
    mark = " ⚠️ **" + ("stateful" if change.stateful else "serving") + "**" if change.marked else ""
    kind = f", {change.replacement_kind}" if change.replacement_kind else ""
    line = f"- `{change.name}` ({_short_type(change.type)}{kind}){mark}"
    if change.renamed_from:
        line += f", renamed from `{change.renamed_from}` (alias)"
    if change.caused_by:
        line += f", because {', '.join(f'`{n}`' for n in change.caused_by)} is replaced"
    lines = [line]
    for item in change.inputs:
        forces = " (forces replacement)" if item.replaces else ""
        note = f" ({item.note})" if item.note else ""
        lines.append(f"  - `{item.path}`{forces}: {_change_value(item)}{note}")
    return lines


def _operation_lines(changes: Iterable[ResourceChange], heading_level: str) -> list[str]:
    """Changed resources under one heading per operation, destructive ones first."""
    changes = list(changes)
    lines: list[str] = []
    for operation, heading in OPERATION_HEADINGS:
        group = [c for c in changes if c.operation is operation]
        if group:
            lines += [f"{heading_level} {heading} ({len(group)})", ""]
            for change in group:
                lines += _change_lines(change)
            lines.append("")
    return lines


def _grouped_change_lines(diff: PlanDiff, review: DiffReview) -> list[str]:
    """A stack of many models: the changed resources of each changed model, then the
    platform's."""
    lines: list[str] = []
    for part in [*review.models, review.platform]:
        if part is None:
            continue
        keys = {c.key for c in part.changes}
        mine = [c for c in diff.changes if c.key in keys]
        if mine:
            lines += [f"#### {part.title}", "", *_operation_lines(mine, "#####")]
    return lines


def render_markdown(diff: PlanDiff, title: str, *, stack_change_first: bool = True) -> str:
    """The diff as GitHub-flavoured Markdown: the reviewer summary, highlights, resources,
    policy. A change of tier or enforcement is the very first line, above the title, unless
    ``stack_change_first`` is false (two stacks compared differ there by design)."""
    stack_change = diff.review.lead_lines() if diff.review else []
    lines = list(stack_change) if stack_change_first else []
    lines += [f"### {title}", ""]
    if not stack_change_first:
        lines += stack_change
    lines += [f"base `{diff.base_label}` → head `{diff.head_label}`", ""]
    if diff.review:
        lines += diff.review.lines()
    else:
        totals = counts(diff.changes)
        lines.append(
            f"**{totals['create']} to create, {totals['update']} to update, "
            f"{totals['replace']} to replace, {totals['delete']} to delete** "
            f"({diff.unchanged} unchanged)"
        )
    lines.append("")
    lines.extend(f"> - {note}" for note in diff.notes)
    lines.append("")
    grouped = diff.review is not None and diff.review.grouped
    if diff.highlights:
        lines += _highlight_lines(diff.highlights, unchanged=not grouped)
    if diff.is_empty:
        lines += ["No resource or policy changes.", ""]
    if diff.review is not None and grouped:
        lines += _grouped_change_lines(diff, diff.review)
    else:
        lines += _operation_lines(diff.changes, "####")
    if diff.policy:
        lines += ["#### Policy", ""]
        for item in diff.policy:
            mark = "❌ new" if item.action == "new" else "✅ resolved"
            lines.append(
                f"- {mark} {item.level} `{item.policy}` on `{item.resource.split('::')[-1]}`: "
                f"{item.message}"
            )
        lines.append("")
    text = "\n".join(lines)
    if len(text) > MAX_MARKDOWN_CHARS:
        cut = text.rfind("\n", 0, MAX_MARKDOWN_CHARS)
        text = (
            text[:cut] + "\n\n_Diff cut to fit a comment: run the command locally for all of it._"
        )
    return text.rstrip("\n") + "\n"
