"""What `pulumi preview --diff` would do to each resource: create, update, replace, delete or
leave it, with the input paths that cause it.

Which input changes force a replacement comes from the providers (``mlstack/diff_data``,
derived from terraform-provider-aws, pulumi-kubernetes and the CloudFormation schemas behind
aws-native); the kit's own ``replaceOnChanges`` and ``deleteBeforeReplace`` options count too.
A replacement cascades as in the engine: a resource whose input was built from a replaced
resource's outputs sees that input change (its value is known only after apply); when that
input forces a replacement, it is replaced as well. Aliases match a renamed resource with the
URN it had before, so a rename with an alias is no replacement.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from infra.config.types import SECRET_PLACEHOLDER, is_secret_placeholder
from mlstack.diff_data.replacement import replacement_paths
from mlstack.offline.secrets import is_ciphertext_fingerprint
from policy_pack.type_tokens import (
    ARGO_ROLLOUT,
    CLOUDWATCH_LOG_GROUP,
    EC2_VPC,
    ECR_REPOSITORY,
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    KMS_KEY,
    KUBERNETES_DEPLOYMENT,
    KUBERNETES_SERVICE,
    S3_BUCKET,
    SAGEMAKER_ENDPOINT,
    SAGEMAKER_MODEL_PACKAGE_GROUP,
)

Document = dict[str, Any]

STATEFUL_TYPES = frozenset(
    {
        S3_BUCKET,
        KMS_KEY,
        ECR_REPOSITORY,
        SAGEMAKER_MODEL_PACKAGE_GROUP,
        CLOUDWATCH_LOG_GROUP,
        EKS_CLUSTER,
        EC2_VPC,
    }
)
"""Resources holding data or identity: replacing or deleting them loses something."""
SERVING_TYPES = frozenset(
    {
        SAGEMAKER_ENDPOINT,
        EKS_NODE_GROUP,
        ARGO_ROLLOUT,
        KUBERNETES_DEPLOYMENT,
        KUBERNETES_SERVICE,
    }
)
"""Resources that answer requests: replacing or deleting them interrupts serving."""


class Operation(str, Enum):
    """What the engine does to a resource, as ``pulumi preview`` names it."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"


@dataclass(frozen=True)
class InputChange:
    """One input path whose value differs; ``None`` where a side lacks the path."""

    path: str
    base: Any
    head: Any
    replaces: bool = False
    """This change alone forces a replacement."""
    note: str = ""
    """The change in the config's words, e.g. ``1000 ms -> 500 ms`` for an alarm threshold."""

    @property
    def secret(self) -> bool:
        return is_secret(self.base) or is_secret(self.head)

    @property
    def secret_change(self) -> str:
        """What can honestly be said of a secret's change, never its value."""
        return secret_change(self.base, self.head)

    def to_json(self) -> dict[str, Any]:
        if self.secret:
            return {
                "path": self.path,
                "secret": True,
                "change": self.secret_change,
                "replaces": self.replaces,
            }
        out = {"path": self.path, "base": self.base, "head": self.head, "replaces": self.replaces}
        return {**out, "note": self.note} if self.note else out


@dataclass(frozen=True)
class ResourceChange:
    """The operation on one resource and why."""

    key: str
    type: str
    name: str
    operation: Operation
    inputs: tuple[InputChange, ...] = ()
    delete_before_replace: bool = False
    caused_by: tuple[str, ...] = ()
    """Names of replaced resources whose new outputs this resource takes (a cascade)."""
    renamed_from: str | None = None

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL_TYPES

    @property
    def serving(self) -> bool:
        return self.type in SERVING_TYPES

    @property
    def marked(self) -> bool:
        """A replace or delete of a stateful or serving resource: the reviewer must look."""
        destructive = self.operation in (Operation.REPLACE, Operation.DELETE)
        return destructive and (self.stateful or self.serving)

    @property
    def replacement_kind(self) -> str | None:
        if self.operation is not Operation.REPLACE:
            return None
        return "delete-before-create" if self.delete_before_replace else "create-before-delete"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "name": self.name,
            "operation": self.operation.value,
            "replacement": self.replacement_kind,
            "marked": self.marked,
            "inputs": [change.to_json() for change in self.inputs],
            "causedBy": list(self.caused_by),
            "renamedFrom": self.renamed_from,
        }


def is_secret(value: Any) -> bool:
    """A secret placeholder, with or without its keyed fingerprint (``[secret:…]``)."""
    return is_secret_placeholder(value)


def uncomparable_secret(base: Any, head: Any) -> bool:
    """A secret with a fingerprint on one side and none on the other (a plan made before
    fingerprints existed): nothing can be said, so it is no change."""
    return SECRET_PLACEHOLDER in (base, head) and is_secret(base) and is_secret(head)


def secret_change(base: Any, head: Any) -> str:
    """How a secret input changed, in words: fingerprints tell equal values apart from new
    ones; a ``secure:`` ciphertext only tells that it was encrypted again."""
    if base is None:
        return "[secret] added"
    if head is None:
        return "[secret] removed"
    if not (is_secret(base) and is_secret(head)):
        return "[secret] changed (a secret on one side only)"
    before, after = is_ciphertext_fingerprint(base), is_ciphertext_fingerprint(head)
    if before and after:
        return "[secret] changed (new secure: ciphertext: a new value, or the same encrypted again)"
    if after:
        return "[secret] changed (now a secure: value)"
    if before:
        return "[secret] changed (now plain text in the stack file)"
    return "[secret] changed"


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
    if not prefix and value in ({}, []):
        return {}
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


def _path_sort_key(path: str) -> list[tuple[int, Any]]:
    """List positions in numeric order: ``a[2]`` before ``a[10]``."""
    parts: list[tuple[int, Any]] = []
    for piece in path.replace("]", "").split("["):
        for name in piece.split("."):
            parts.append((0, int(name)) if name.isdigit() else (1, name))
    return parts


IDENTITY_KEYS: tuple[tuple[str, ...], ...] = (
    ("alarmName",),
    ("variantName",),
    ("name",),
    ("id",),
    ("Sid",),
    ("properties", "title"),
)
"""Keys (paths into an element) that name the elements of a list (alarms, variants,
containers, statements, dashboard widgets): elements are paired by them, not by position,
when every element of both lists has a distinct one. A dashboard's text widget, which has
no title, is named by the first line of its Markdown."""


def _named(item: dict[str, Any], key: tuple[str, ...]) -> Any:
    found: Any = item
    for step in key:
        found = found.get(step) if isinstance(found, dict) else None
    if found is None and key == ("properties", "title"):
        markdown = _named(item, ("properties", "markdown"))
        return markdown.split("\n", 1)[0] if isinstance(markdown, str) else None
    return found


def _identity(base: list[Any], head: list[Any]) -> tuple[str, ...] | None:
    """The key naming every element of both lists, if there is one."""
    items = [*base, *head]
    if not all(isinstance(item, dict) for item in items):
        return None
    for key in IDENTITY_KEYS:
        if all(isinstance(_named(item, key), str) for item in items) and all(
            len({_named(item, key) for item in side}) == len(side) for side in (base, head)
        ):
            return key
    return None


def _canonical(value: Any) -> str:
    return json.dumps(_expand(value), sort_keys=True, default=str)


def align(base: list[Any], head: list[Any]) -> list[tuple[int | None, int | None]]:
    """Pairs ``(base index, head index)`` of the elements that correspond; ``None`` on the
    side that lacks one. Named elements pair by name (:data:`IDENTITY_KEYS`); others as a
    text diff pairs lines: equal runs, then same-length changed runs position by position."""
    key = _identity(base, head)
    if key is not None:
        where = {_named(item, key): index for index, item in enumerate(base)}
        pairs: list[tuple[int | None, int | None]] = [
            (where.get(_named(item, key)), index) for index, item in enumerate(head)
        ]
        matched = {i for i, _ in pairs}
        return pairs + [(i, None) for i in range(len(base)) if i not in matched]
    matcher = difflib.SequenceMatcher(
        None, [_canonical(v) for v in base], [_canonical(v) for v in head], autojunk=False
    )
    pairs = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            pairs += zip(range(i1, i2), range(j1, j2), strict=True)
            continue
        common = min(i2 - i1, j2 - j1)
        pairs += zip(range(i1, i1 + common), range(j1, j1 + common), strict=True)
        pairs += [(i, None) for i in range(i1 + common, i2)]
        pairs += [(None, j) for j in range(j1 + common, j2)]
    return pairs


def _changed(base: Any, head: Any, prefix: str, out: list[tuple[str, Any, Any]]) -> None:
    base, head = _expand(base), _expand(head)
    if base == head:
        return
    if isinstance(base, dict) and isinstance(head, dict) and base and head:
        for key in dict.fromkeys([*base, *head]):
            path = f"{prefix}.{key}" if prefix else str(key)
            _changed(base.get(key), head.get(key), path, out)
        return
    if isinstance(base, list) and isinstance(head, list) and base and head:
        for i, j in align(base, head):
            index = j if j is not None else i
            _changed(
                None if i is None else base[i], None if j is None else head[j],
                f"{prefix}[{index}]", out,
            )  # fmt: skip
        return
    before, after = flatten(base, prefix), flatten(head, prefix)
    if base is None:
        before = {}
    if head is None:
        after = {}
    out += [
        (path, before.get(path), after.get(path))
        for path in dict.fromkeys([*before, *after])
        if path not in before or path not in after or before[path] != after[path]
    ]


def diff_inputs(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(path, base, head)`` of every input path whose value differs, in path order (list
    positions numerically: ``a[2]`` before ``a[10]``). List elements are paired by
    :func:`align`, so an alarm added in the middle of a list is one addition, not a shift."""
    out: list[tuple[str, Any, Any]] = []
    _changed(base or {}, head or {}, "", out)
    return sorted(out, key=lambda change: _path_sort_key(change[0]))


def _forced(type_token: str, options: dict[str, Any], paths: Iterable[str]) -> set[str]:
    """The changed paths that force a replacement: the provider's rules, the resource's own
    ``replaceOnChanges`` (``*`` means any input)."""
    paths = list(paths)
    if type_token.startswith("mlstack:") or not paths:
        return set()
    forced = set(replacement_paths(type_token, paths))
    for pattern in options.get("replaceOnChanges") or ():
        if pattern == "*":
            return set(paths)
        forced |= {p for p in paths if p == pattern or p.startswith((f"{pattern}.", f"{pattern}["))}
    return forced


@dataclass
class _Pair:
    key: str
    base: dict[str, Any] | None
    head: dict[str, Any] | None
    changes: list[InputChange] = field(default_factory=list)
    operation: Operation = Operation.SAME
    caused_by: list[str] = field(default_factory=list)


def _pairs(base: Document, head: Document) -> list[_Pair]:
    """Head resources matched with their base by key, or by an alias naming a base URN."""
    before = {resource_key(r["urn"]): r for r in base.get("resources", [])}
    pairs: list[_Pair] = []
    matched: set[str] = set()
    for resource in head.get("resources", []):
        key = resource_key(resource["urn"])
        old = before.get(key)
        if old is None:
            for alias in (resource.get("options") or {}).get("aliases") or ():
                old = before.get(resource_key(alias))
                if old is not None:
                    break
        if old is not None:
            matched.add(resource_key(old["urn"]))
        pairs.append(_Pair(key, old, resource))
    pairs += [_Pair(k, r, None) for k, r in before.items() if k not in matched]
    return pairs


def _first_pass(pair: _Pair) -> None:
    if pair.base is None:
        pair.operation = Operation.CREATE
        return
    if pair.head is None:
        pair.operation = Operation.DELETE
        return
    changed = [
        change
        for change in diff_inputs(pair.base.get("inputs") or {}, pair.head.get("inputs") or {})
        if not uncomparable_secret(change[1], change[2])
    ]
    options = pair.head.get("options") or {}
    forced = _forced(pair.head["type"], options, (p for p, _, _ in changed))
    pair.changes = [InputChange(p, b, h, p in forced) for p, b, h in changed]
    if forced:
        pair.operation = Operation.REPLACE
    elif changed:
        pair.operation = Operation.UPDATE


def _cascade(pairs: list[_Pair]) -> None:
    """Replacements flow to the resources built from the replaced ones' outputs."""
    queue = [p for p in pairs if p.operation is Operation.REPLACE]
    while queue:
        replaced = queue.pop()
        for pair in pairs:
            if pair.head is None or pair.base is None or pair is replaced:
                continue
            options = pair.head.get("options") or {}
            dependencies = options.get("propertyDependencies") or {}
            inputs = [n for n, urns in dependencies.items() if replaced.head["urn"] in urns]
            if not inputs:
                continue
            name = replaced.head["name"]
            if name not in pair.caused_by:
                pair.caused_by.append(name)
            known = {c.path for c in pair.changes}
            forced = _forced(pair.head["type"], options, inputs)
            pair.changes += [
                InputChange(i, "(known)", "(known after apply)", i in forced)
                for i in inputs
                if i not in known
            ]
            if forced and pair.operation is not Operation.REPLACE:
                pair.operation = Operation.REPLACE
                queue.append(pair)
            elif pair.operation is Operation.SAME:
                pair.operation = Operation.UPDATE


def operations(base: Document, head: Document) -> list[ResourceChange]:
    """The operation on every resource of either plan, in head's order, deletions last."""
    pairs = _pairs(base, head)
    for pair in pairs:
        _first_pass(pair)
    _cascade(pairs)
    out = []
    for pair in pairs:
        resource = pair.head or pair.base
        assert resource is not None
        options = resource.get("options") or {}
        renamed = (
            pair.base["name"]
            if pair.base and pair.head and resource_key(pair.base["urn"]) != pair.key
            else None
        )
        out.append(
            ResourceChange(
                key=pair.key,
                type=resource["type"],
                name=resource["name"],
                operation=pair.operation,
                inputs=tuple(pair.changes),
                delete_before_replace=bool(options.get("deleteBeforeReplace")),
                caused_by=tuple(pair.caused_by),
                renamed_from=renamed,
            )
        )
    return out


def counts(changes: Iterable[ResourceChange]) -> dict[str, int]:
    """How many resources each operation touches."""
    totals = {op.value: 0 for op in Operation}
    for change in changes:
        totals[change.operation.value] += 1
    return totals
