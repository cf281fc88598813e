"""How two stacks differ, for environment parity reviews: pure functions over plan documents.

Two stacks are not two versions of one stack, so a comparison says what exists in one stack
only and which inputs differ, never "replace". Differences every pair of stacks has are
folded into one line each, so the real ones stand out:

- names, ARNs and descriptions that differ only by the stack name or environment
  (``mlstack-staging-AllTraffic-cpu`` / ``mlstack-production-AllTraffic-cpu``): the stack name
  reads ``{stack}`` (the environment ``{environment}``) and lists are paired after that, so
  alarms pair by their names;
- a tag with one value in every resource of one stack and another in the other;
- alarm thresholds that differ only in the metric's units (a CPU threshold scaled by each
  stack's vCPU count is the same percent in both stack files);
- secrets, whose fingerprints are keyed per stack and never comparable across stacks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from infra.config.types import SECRET_FINGERPRINT, SECRET_PLACEHOLDER
from mlstack.diff import (
    Document,
    Highlight,
    PolicyChange,
    _change_value,
    _code,
    _highlight_lines,
    _short_type,
    alarm_threshold,
    diff_policy,
    highlights,
    variant_instance_types,
)
from mlstack.operations import InputChange, diff_inputs, resource_key
from mlstack.review import FactChange, review_diff, table_cell
from policy_pack.type_tokens import CLOUDWATCH_METRIC_ALARM

STACK_TOKEN = "{stack}"
ENVIRONMENT_TOKEN = "{environment}"
TAG_PATH = re.compile(r"tags(All)?\.(?P<key>.+)")


@dataclass(frozen=True)
class Folded:
    """One kind of expected difference, with how often it occurs."""

    what: str
    base: str
    head: str
    values: int
    resources: int

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "base": self.base,
            "head": self.head,
            "values": self.values,
            "resources": self.resources,
        }


@dataclass(frozen=True)
class ResourceDifference:
    """A resource of one stack or both, and the inputs that differ between them."""

    key: str
    type: str
    name: str
    presence: str
    """``both``, ``base`` (only in the base stack) or ``head`` (only in the other)."""
    inputs: tuple[InputChange, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "name": self.name,
            "presence": self.presence,
            "inputs": [i.to_json() for i in self.inputs],
        }


@dataclass(frozen=True)
class StackComparison:
    """Everything that differs between two stacks' plans."""

    base_label: str
    head_label: str
    resources: tuple[ResourceDifference, ...]
    same: int
    folded: tuple[Folded, ...]
    highlights: tuple[Highlight, ...]
    facts: tuple[FactChange, ...]
    """The reviewer summary's facts of both stacks, paired (tier, versions, sizing, rollout),
    per model by its name in stacks of many models."""
    policy: tuple[PolicyChange, ...]
    notes: tuple[str, ...]

    def of_presence(self, presence: str) -> list[ResourceDifference]:
        return [r for r in self.resources if r.presence == presence]

    def summary(self) -> dict[str, int]:
        return {
            "onlyInBase": len(self.of_presence("base")),
            "onlyInHead": len(self.of_presence("head")),
            "differ": len(self.of_presence("both")),
            "same": self.same,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base_label,
            "head": self.head_label,
            "summary": self.summary(),
            "folded": [f.to_json() for f in self.folded],
            "highlights": [h.to_json() for h in self.highlights],
            "facts": [f.to_json() for f in self.facts],
            "resources": [r.to_json() for r in self.resources],
            "policy": [p.to_json() for p in self.policy],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------
# Normalising: the stack name and environment become tokens, secrets lose their fingerprints
# ---------------------------------------------------------------------------------------------


def _tokens(doc: Document) -> list[tuple[re.Pattern[str], str]]:
    names = [(str(doc.get("stack") or ""), STACK_TOKEN)]
    environment = (doc.get("config") or {}).get("mlstack:environment")
    if isinstance(environment, str) and environment != names[0][0]:
        names.append((environment, ENVIRONMENT_TOKEN))
    names = sorted((n for n in names if n[0]), key=lambda n: -len(n[0]))
    return [(re.compile(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])"), t) for n, t in names]


def _normalise(value: Any, tokens: list[tuple[re.Pattern[str], str]]) -> Any:
    if isinstance(value, str):
        if SECRET_FINGERPRINT.fullmatch(value):
            return SECRET_PLACEHOLDER
        for pattern, token in tokens:
            value = pattern.sub(token, value)
        return value
    if isinstance(value, dict):
        return {k: _normalise(v, tokens) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, tokens) for v in value]
    return value


def normalised(doc: Document) -> Document:
    """``doc`` with its stack name and environment as tokens in every input and config value,
    and secrets as bare placeholders (their fingerprints are keyed per stack)."""
    tokens = _tokens(doc)
    out = dict(doc)
    out["resources"] = [
        {
            **r,
            "name": _normalise(r["name"], tokens),
            "inputs": _normalise(r.get("inputs") or {}, tokens),
        }
        for r in doc.get("resources", [])
    ]
    if isinstance(doc.get("config"), dict):
        out["config"] = _normalise(doc["config"], tokens)
    out["policy"] = [_normalise(p, tokens) for p in doc.get("policy", [])]
    return out


def _has_fingerprints(doc: Document) -> bool:
    return SECRET_FINGERPRINT.search(json.dumps(doc.get("resources", []))) is not None


# ---------------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------------


def _configured_threshold(doc: Document, key: str) -> str | None:
    found = next((r for r in doc["resources"] if _key(r, doc) == key), None)
    if found is None or found["type"] != CLOUDWATCH_METRIC_ALARM:
        return None
    return alarm_threshold(found.get("inputs") or {}, variant_instance_types(doc))


def _key(resource: dict[str, Any], doc: Document) -> str:
    """A resource's key with the stack name as a token: per-endpoint resources pair up."""
    return str(_normalise(resource_key(resource["urn"]), _tokens(doc)))


@dataclass
class _Folds:
    """Expected differences found so far: counts per resource key."""

    renamed: Counter[str] = field(default_factory=Counter)
    tags: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    tag_values: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    scaled: set[str] = field(default_factory=set)


def _real_changes(
    key: str, pair: tuple[dict[str, Any], dict[str, Any]], docs: tuple[Document, Document],
    folds: _Folds,
) -> list[InputChange]:  # fmt: skip
    """The differences of one resource in both stacks that are not expected ones."""
    old, new = pair
    real = []
    for path, before, after in diff_inputs(old.get("inputs"), new.get("inputs")):
        change = InputChange(path, before, after)
        tag = TAG_PATH.fullmatch(path)
        if tag and isinstance(before, str) and isinstance(after, str):
            group = (tag["key"], before, after)
            folds.tags.setdefault(group, set()).add(key)
            folds.tag_values[group] += 1
        elif path == "threshold" and new["type"] == CLOUDWATCH_METRIC_ALARM:
            configured = [_configured_threshold(doc, key) for doc in docs]
            if configured[0] is not None and configured[0] == configured[1]:
                folds.scaled.add(key)
            else:
                note = f"{configured[0]} -> {configured[1]} as configured"
                real.append(replace(change, note=note))
        else:
            real.append(change)
    return real


def _renamed_values(key: str, docs: tuple[Document, Document], normal: set[str]) -> int:
    """Inputs of a resource that differ before normalising and not after (stack names)."""
    raw = [next(r for r in doc["resources"] if _key(r, doc) == key) for doc in docs]
    changes = diff_inputs(raw[0].get("inputs"), raw[1].get("inputs"))
    return sum(1 for path, _, _ in changes if path not in normal)


def compare_plans(
    base: Document, head: Document, base_label: str, head_label: str
) -> StackComparison:
    """How stack ``head`` differs from stack ``base``, expected differences folded."""
    norm_base, norm_head = normalised(base), normalised(head)
    before = {_key(r, base): r for r in norm_base["resources"]}
    resources: list[ResourceDifference] = []
    same = 0
    folds = _Folds()
    for resource in norm_head["resources"]:
        key = _key(resource, head)
        old = before.get(key)
        if old is None:
            resources.append(ResourceDifference(key, resource["type"], resource["name"], "head"))
            continue
        normal = {p for p, _, _ in diff_inputs(old.get("inputs"), resource.get("inputs"))}
        folds.renamed[key] = _renamed_values(key, (base, head), normal)
        real = _real_changes(key, (old, resource), (base, head), folds)
        if real:
            resources.append(
                ResourceDifference(key, resource["type"], resource["name"], "both", tuple(real))
            )
        else:
            same += 1
    matched = {_key(r, head) for r in head.get("resources", [])}
    resources += [
        ResourceDifference(k, r["type"], r["name"], "base")
        for k, r in before.items()
        if k not in matched
    ]
    return StackComparison(
        base_label=base_label,
        head_label=head_label,
        resources=tuple(resources),
        same=same,
        folded=tuple(_folded(base, head, folds)),
        highlights=highlights(norm_base, norm_head),
        facts=review_diff(base, head, ()).facts,
        policy=diff_policy(norm_base, norm_head),
        notes=tuple(_notes(base, head)),
    )


def _folded(base: Document, head: Document, folds: _Folds) -> Iterable[Folded]:
    values = sum(folds.renamed.values())
    if values:
        yield Folded(
            f"names that differ only by the stack name ({STACK_TOKEN}) or environment",
            str(base.get("stack")),
            str(head.get("stack")),
            values,
            sum(1 for count in folds.renamed.values() if count),
        )
    for (key, old, new), keys in sorted(folds.tags.items()):
        yield Folded(f"tag {key}", old, new, folds.tag_values[(key, old, new)], len(keys))
    if folds.scaled:
        yield Folded(
            "alarm thresholds scaled to each instance size (the same in both stack files)",
            "-",
            "-",
            len(folds.scaled),
            len(folds.scaled),
        )


def _notes(base: Document, head: Document) -> Iterable[str]:
    if _has_fingerprints(base) or _has_fingerprints(head):
        yield "secrets are fingerprinted with a key per stack: they are not compared across stacks"


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _folded_line(item: Folded) -> str:
    if item.base == "-":
        return f"- {item.what}: {_count(item.resources, 'alarm')}"
    where = f"{_count(item.values, 'value')} in {_count(item.resources, 'resource')}"
    return f"- {item.what}: {_code(item.base)} → {_code(item.head)} ({where})"


def render_comparison(comparison: StackComparison, title: str) -> str:
    """The comparison as GitHub-flavoured Markdown."""
    base, head = comparison.base_label, comparison.head_label
    totals = comparison.summary()
    lines = [
        f"### {title}",
        "",
        f"**{totals['differ']} differ, {totals['onlyInHead']} only in {head}, "
        f"{totals['onlyInBase']} only in {base}** ({totals['same']} the same apart from the "
        f"folded differences) · `{STACK_TOKEN}` stands for the stack name",
    ]
    lines += [f"> - {note}" for note in comparison.notes]
    lines.append("")
    if comparison.folded:
        lines += ["#### Expected differences, folded", ""]
        lines += [_folded_line(item) for item in comparison.folded]
        lines.append("")
    changed = [f for f in comparison.facts if f.changed]
    if changed:
        lines += ["#### Summary: what differs", "", f"| | | {base} -> {head} |", "|---|---|---|"]
        lines += [f"| {f.section} | {f.label} | {table_cell(f.text())} |" for f in changed]
        lines.append("")
    if comparison.highlights:
        lines += _highlight_lines(comparison.highlights)
    differ = comparison.of_presence("both")
    if differ:
        lines += [f"#### Differ ({len(differ)})", ""]
        for resource in differ:
            lines.append(f"- `{resource.name}` ({_short_type(resource.type)})")
            lines += [
                f"  - `{i.path}`: {_change_value(i)}" + (f" ({i.note})" if i.note else "")
                for i in resource.inputs
            ]
        lines.append("")
    for presence, label in (("head", head), ("base", base)):
        group = comparison.of_presence(presence)
        if group:
            lines += [f"<details><summary>Only in {label} ({len(group)})</summary>", ""]
            lines += [f"- `{r.name}` ({_short_type(r.type)})" for r in group]
            lines += ["", "</details>", ""]
    if comparison.policy:
        lines += ["#### Policy", ""]
        for item in comparison.policy:
            side = head if item.action == "new" else base
            lines.append(
                f"- {item.level} `{item.policy}` only in {side} on "
                f"`{item.resource.split('::')[-1]}`: {item.message}"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
