"""Strings and JSON documents built from Outputs: ARNs, S3 URIs, IAM policies, dashboards.

:func:`concat` and :func:`json_document` give what ``pulumi.Output.concat`` and
``pulumi.Output.json_dumps`` give, with the same secrecy, dependencies and unknowns, but they
await only the Outputs among their parts. The SDK's versions first turn every part into an
Output (``Output.from_input``, twice for ``concat``): each literal piece of an ARN, each key
and value of a policy document gets an Output, a task and futures of its own, resolved on the
event loop. An ARN of three Outputs and four literals cost 26 Outputs, a model's execution-role
policy over 200; here they cost n + 2 for n Outputs (``make bench-plan`` shows what a model
costs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pulumi


def concat(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """The parts joined into one string once every Output among them is known, as
    ``pulumi.Output.concat(*parts)``."""
    outputs = [part for part in parts if not isinstance(part, str)]

    def joined(values: list[str]) -> str:
        known = iter(values)
        return "".join(part if isinstance(part, str) else next(known) for part in parts)

    return pulumi.Output.all(*outputs).apply(joined)


def _outputs_in(value: Any, found: list[pulumi.Output[Any]]) -> None:
    if isinstance(value, pulumi.Output):
        found.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, pulumi.Output):
                raise TypeError("json_document: a key of the document is an Output; keys are str")
            _outputs_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _outputs_in(item, found)


def _filled(value: Any, known: Iterator[Any]) -> Any:
    """``value`` with each Output replaced by the next of ``known`` (depth first, in order)."""
    if isinstance(value, pulumi.Output):
        return next(known)
    if isinstance(value, Mapping):
        return {key: _filled(item, known) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_filled(item, known) for item in value]
    return value


def json_document(document: Any, *, sort_keys: bool = False) -> pulumi.Output[str]:
    """``json.dumps(document, sort_keys=sort_keys)`` once every Output in ``document`` (a
    value of a dict, or an item of a list or tuple, at any depth) is known, as
    ``pulumi.Output.json_dumps(document, sort_keys=sort_keys)``. Default: keys in the
    document's order. Raises ``TypeError`` for an Output used as a key."""
    found: list[pulumi.Output[Any]] = []
    _outputs_in(document, found)
    return pulumi.Output.all(*found).apply(
        lambda values: json.dumps(_filled(document, iter(values)), sort_keys=sort_keys)
    )
