"""What changes between two offline plans: pure functions over plan documents.

A plan document is the JSON of ``mlstack plan --json`` plus two optional keys written by the
diff runner: ``config`` (the stack config as the program received it, in the CLI's string
encoding, secrets already replaced by placeholders) and ``secretKeys``. Resources of the two
plans are matched by their URN without the stack and project (``type$...::name``), so the
same functions serve ``mlstack diff`` (one stack at two commits) and ``mlstack compare``
(two stacks at one commit).

Secrets never reach a plan (they are placeholders there), and this module renders any value
that is a placeholder or belongs to a secret config key as ``(secret)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mlstack.offline.stack_files import SECRET_PLACEHOLDER, decode_object

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


@dataclass(frozen=True)
class InputChange:
    """One input path whose value differs; ``None`` where a side lacks the path."""

    path: str
    base: Any
    head: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "base": self.base, "head": self.head}


@dataclass(frozen=True)
class ResourceChange:
    """A resource added, removed or changed (with the input paths that changed)."""

    key: str
    type: str
    name: str
    action: str
    """added, removed or changed."""
    inputs: tuple[InputChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "inputs": [change.to_json() for change in self.inputs],
        }


@dataclass(frozen=True)
class Highlight:
    """A value reviewers care about (model version, image, sizing, rollout, alarms)."""

    label: str
    base: str | None
    head: str | None

    @property
    def changed(self) -> bool:
        return self.base != self.head

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "base": self.base, "head": self.head, "changed": self.changed}


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

    def of_action(self, action: str) -> list[ResourceChange]:
        return [c for c in self.changes if c.action == action]

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.policy

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base_label,
            "head": self.head_label,
            "summary": {
                "added": len(self.of_action("added")),
                "removed": len(self.of_action("removed")),
                "changed": len(self.of_action("changed")),
                "unchanged": self.unchanged,
            },
            "highlights": [h.to_json() for h in self.highlights],
            "resources": [c.to_json() for c in self.changes],
            "policy": [p.to_json() for p in self.policy],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------


def resource_key(urn: str) -> str:
    """A URN without ``urn:pulumi:<stack>::<project>::``: equal across stacks and commits."""
    parts = urn.split("::", 2)
    return parts[2] if len(parts) == 3 else urn


def _expand(value: Any) -> Any:
    """JSON held in a string (IAM and bucket policies) is compared by its structure."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by path: ``productionVariants[0].instanceType``. Empty containers are
    leaves, so that adding the first element shows as a change."""
    value = _expand(value)
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def diff_inputs(base: dict[str, Any], head: dict[str, Any]) -> tuple[InputChange, ...]:
    """Input paths whose values differ, sorted by path."""
    before, after = flatten(base), flatten(head)
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if path not in before or path not in after or old != new:
            changes.append(InputChange(path, old, new))
    return tuple(changes)


def _resources(doc: Document) -> dict[str, dict[str, Any]]:
    return {resource_key(r["urn"]): r for r in doc.get("resources", [])}


def diff_resources(base: Document, head: Document) -> tuple[tuple[ResourceChange, ...], int]:
    """Resources added, removed and changed (in head's order, removed last), and the number
    of unchanged ones."""
    before, after = _resources(base), _resources(head)
    changes: list[ResourceChange] = []
    unchanged = 0
    for key, resource in after.items():
        old = before.get(key)
        if old is None:
            changes.append(ResourceChange(key, resource["type"], resource["name"], "added"))
            continue
        inputs = diff_inputs(old.get("inputs") or {}, resource.get("inputs") or {})
        if inputs:
            changes.append(
                ResourceChange(key, resource["type"], resource["name"], "changed", inputs)
            )
        else:
            unchanged += 1
    for key, resource in before.items():
        if key not in after:
            changes.append(ResourceChange(key, resource["type"], resource["name"], "removed"))
    return tuple(changes), unchanged


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
    if key in doc.get("secretKeys", []):
        return {}
    return decode_object((doc.get("config") or {}).get(key))


def _of_type(doc: Document, *types: str) -> list[dict[str, Any]]:
    return [r for r in doc.get("resources", []) if r["type"] in types]


def _num(value: Any) -> str:
    """Numbers as people write them: ``3`` not ``3.0`` (the engine sends floats)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _model_highlights(doc: Document) -> dict[str, str]:
    out: dict[str, str] = {}
    model = _config_object(doc, "mlstack:model")
    group = model.get("packageGroupName") or _config_object(doc, "mlstack:registry").get(
        "modelPackageGroupName", "mlstack-models"
    )
    if model.get("packageVersion") is not None:
        out["model package version"] = f"{group} v{model['packageVersion']}"
    shadow = model.get("shadow") or {}
    if shadow.get("packageVersion") is not None:
        out["shadow model version"] = (
            f"{group} v{shadow['packageVersion']}, {shadow.get('samplingPercent', 10)}% copied"
        )
    for key in ("imageUri", "artifactUri"):
        if model.get(key):
            out[f"model {key}"] = str(model[key])
    for resource in _of_type(doc, "aws:sagemaker/model:Model"):
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
        if not resource["type"].startswith("kubernetes:"):
            continue
        spec = ((resource.get("inputs") or {}).get("spec") or {}).get("template") or {}
        for container in (spec.get("spec") or {}).get("containers") or []:
            if isinstance(container, dict) and container.get("image"):
                label = f"image · {resource['name']}/{container.get('name', '?')}"
                out[label] = str(container["image"])
    return out


def _sizing_highlights(doc: Document) -> dict[str, str]:
    out: dict[str, str] = {}
    configs = _of_type(doc, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
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
    for resource in _of_type(doc, "aws:appautoscaling/target:Target"):
        inputs = resource.get("inputs") or {}
        if "minCapacity" in inputs or "maxCapacity" in inputs:
            out[f"autoscaling · {resource['name']}"] = (
                f"{_num(inputs.get('minCapacity'))}-{_num(inputs.get('maxCapacity'))} instances"
            )
    return out


def rollout_timeline(rollout: dict[str, Any]) -> str:
    """A one-line timeline of ``mlstack:rollout``, e.g. ``10% -> bake 600 s -> 100%``."""
    strategy = rollout.get("strategy", "all-at-once")
    step, bake = rollout.get("stepPercent"), rollout.get("bakeSeconds", 600)
    if strategy == "canary":
        steps = f"canary {step}% -> bake {bake} s -> 100%"
    elif strategy == "linear":
        steps = f"linear +{step}% every {bake} s -> 100%"
    elif strategy == "rolling":
        steps = f"rolling batches of {step or '?'}%, bake {bake} s each"
    else:
        steps = f"all-at-once 100% -> bake {bake} s"
    parts = [steps]
    if "terminationWaitSeconds" in rollout:
        parts.append(f"old fleet kept {rollout['terminationWaitSeconds']} s")
    if "maximumExecutionTimeoutSeconds" in rollout:
        parts.append(f"timeout {rollout['maximumExecutionTimeoutSeconds']} s")
    alarms = [str(a.get("metric")) for a in rollout.get("rollbackAlarms") or []]
    if alarms:
        parts.append(f"rollback on: {', '.join(alarms)}")
    return ", ".join(parts)


def _rollout_highlights(doc: Document) -> dict[str, str]:
    rollout = _config_object(doc, "mlstack:rollout")
    if not rollout:
        return {}
    out = {"rollout": rollout_timeline(rollout)}
    for alarm in rollout.get("rollbackAlarms") or []:
        metric = str(alarm.get("metric"))
        unit = "ms" if metric.startswith("latency") else "%"
        periods = alarm.get("evaluationPeriods", 2)
        out[f"rollback alarm · {metric}"] = (
            f"> {_num(alarm.get('threshold'))} {unit} for {periods} min"
        )
    return out


def _alarm_highlights(doc: Document) -> dict[str, str]:
    out: dict[str, str] = {}
    for resource in _of_type(doc, "aws:cloudwatch/metricAlarm:MetricAlarm"):
        inputs = resource.get("inputs") or {}
        metric = inputs.get("metricName") or "metric math"
        threshold = _num(inputs.get("threshold", "?"))
        periods = _num(inputs.get("evaluationPeriods", "?"))
        operator = inputs.get("comparisonOperator", "?")
        label = f"alarm · {resource['name']}"
        out[label] = f"{metric} {operator} {threshold} for {periods} periods"
    return out


HIGHLIGHTS: list[Callable[[Document], dict[str, str]]] = [
    _model_highlights,
    _pod_images,
    _sizing_highlights,
    _rollout_highlights,
    _alarm_highlights,
]
"""Extractors of reviewer-relevant values, in display order."""


def _scrub(value: str) -> str:
    return SECRET_SHOWN if SECRET_PLACEHOLDER in value else value


def highlights(base: Document, head: Document) -> tuple[Highlight, ...]:
    """Every highlighted value of either plan, with both sides."""
    out: list[Highlight] = []
    for extract in HIGHLIGHTS:
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


def diff_plans(
    base: Document,
    head: Document,
    base_label: str,
    head_label: str,
    notes: Iterable[str] = (),
) -> PlanDiff:
    """The whole diff of two plan documents."""
    changes, unchanged = diff_resources(base, head)
    return PlanDiff(
        base_label=base_label,
        head_label=head_label,
        changes=changes,
        unchanged=unchanged,
        highlights=highlights(base, head),
        policy=diff_policy(base, head),
        notes=tuple(notes),
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
    if SECRET_PLACEHOLDER in text:
        return SECRET_SHOWN
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    text = text.replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _short_type(type_token: str) -> str:
    return type_token.split(":")[-1]


def _highlight_lines(items: tuple[Highlight, ...]) -> list[str]:
    """Changed values in a table (never cut: image digests stay whole), unchanged ones
    folded away."""
    changed = [h for h in items if h.changed]
    unchanged = [h for h in items if not h.changed]
    lines = ["#### What reviewers care about", ""]
    if changed:
        lines += ["| | base | head |", "|---|---|---|"]
        lines += [
            f"| **{h.label}** ⚠️ | {_code(h.base, None)} | **{_code(h.head, None)}** |"
            for h in changed
        ]
    else:
        lines.append("No highlighted value changes.")
    if unchanged:
        lines += ["", f"<details><summary>Unchanged ({len(unchanged)})</summary>", ""]
        lines += ["| | value |", "|---|---|"]
        lines += [f"| {h.label} | {_code(h.head, None)} |" for h in unchanged]
        lines += ["", "</details>"]
    return [*lines, ""]


def render_markdown(diff: PlanDiff, title: str) -> str:
    """The diff as GitHub-flavoured Markdown: summary, highlights, resources, policy."""
    added, removed, changed = (diff.of_action(a) for a in ("added", "removed", "changed"))
    lines = [f"### {title}", ""]
    lines.append(
        f"**{len(added)} to add, {len(changed)} to change, {len(removed)} to remove** "
        f"({diff.unchanged} unchanged) · base `{diff.base_label}` → head `{diff.head_label}`"
    )
    lines.extend(f"> - {note}" for note in diff.notes)
    lines.append("")
    if diff.highlights:
        lines += _highlight_lines(diff.highlights)
    if diff.is_empty:
        lines += ["No resource or policy changes.", ""]
    for heading, group in (("Added", added), ("Removed", removed)):
        if group:
            lines += [f"#### {heading} ({len(group)})", ""]
            lines += [f"- `{c.name}` ({_short_type(c.type)})" for c in group]
            lines.append("")
    if changed:
        lines += [f"#### Changed ({len(changed)})", ""]
        for change in changed:
            lines.append(f"- `{change.name}` ({_short_type(change.type)})")
            for item in change.inputs:
                lines.append(f"  - `{item.path}`: {_code(item.base)} → {_code(item.head)}")
        lines.append("")
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
