"""Strings and JSON documents built from Outputs register as the SDK's ``Output.concat`` and
``Output.json_dumps`` would make them: the same text, secrecy, unknowns and dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from infra.components.interpolation import concat, json_document
from tests.infra.components.conftest import Declare


def _cases(source: aws.sns.Topic) -> dict[str, dict[str, Any]]:
    """Parts of each case: plain, with a resource's Output, a secret, an unknown."""
    return {
        "plain": {"parts": ("arn:", "aws", ":sns"), "document": {"b": [1, "x"], "a": {"c": None}}},
        "resource": {
            "parts": ("arn:", source.arn, "/", source.name, ":*"),
            "document": {"Statement": [{"Resource": [source.arn, "*"], "Effect": "Allow"}]},
        },
        "secret": {
            "parts": ("https://", pulumi.Output.secret("token"), "@hooks"),
            "document": {"url": pulumi.Output.secret("token"), "kind": ("a", "b")},
        },
        "unknown": {
            "parts": (pulumi.Output.from_input(pulumi.output.UNKNOWN), "-suffix"),
            "document": {"id": pulumi.Output.from_input(pulumi.output.UNKNOWN)},
        },
    }


def _registered(declare: Declare, build: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Each case's text, from ours and the SDK's, as two topics' recorded display name and
    its dependencies."""

    def program() -> None:
        source = aws.sns.Topic("source")
        for name, case in _cases(source).items():
            for side, text in build(case).items():
                aws.sns.Topic(f"{side}-{name}", display_name=text)

    topics = declare(program).of_type("aws:sns/topic:Topic")
    return {
        t.name: (t.inputs["displayName"], t.options.property_dependencies.get("displayName"))
        for t in topics
        if t.name != "source"
    }


def _assert_same(registered: dict[str, Any]) -> None:
    for name in ("plain", "resource", "secret", "unknown"):
        assert registered[f"ours-{name}"] == registered[f"sdk-{name}"], name
    assert registered["ours-resource"][1], "the resource's Output is a dependency"
    assert registered["ours-secret"][0] == "[secret]"
    assert registered["ours-unknown"][0] == "(known after apply)"


def test_concat_registers_as_the_sdk_concat(declare: Declare) -> None:
    registered = _registered(
        declare,
        lambda case: {
            "ours": concat(*case["parts"]),
            "sdk": pulumi.Output.concat(*case["parts"]),
        },
    )
    _assert_same(registered)
    assert registered["ours-plain"][0] == "arn:aws:sns"
    assert registered["ours-resource"][0].startswith("arn:arn:aws:sns:")


@pytest.mark.parametrize("sort_keys", [True, False])
def test_json_document_registers_as_the_sdk_json_dumps(declare: Declare, sort_keys: bool) -> None:
    registered = _registered(
        declare,
        lambda case: {
            "ours": json_document(case["document"], sort_keys=sort_keys),
            "sdk": pulumi.Output.json_dumps(case["document"], sort_keys=sort_keys),
        },
    )
    _assert_same(registered)
    plain = (
        '{"a": {"c": null}, "b": [1, "x"]}' if sort_keys else '{"b": [1, "x"], "a": {"c": null}}'
    )
    assert registered["ours-plain"][0] == plain


def test_an_output_as_a_document_key_is_refused(declare: Declare) -> None:
    def program() -> None:
        topic = aws.sns.Topic("topic")
        with pytest.raises(TypeError, match="a key of the document is an Output"):
            json_document({topic.arn: "value"})

    declare(program)
