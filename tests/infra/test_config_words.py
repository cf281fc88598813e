"""Messages say what is allowed in words: no regular expression, YAML type mistakes come with
the fix, tag values keep the letters AWS allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.config_helpers import config_from_doc, rejection, shipped_doc

Edit = Callable[[dict[str, Any]], object]


def _set(section: str, **fields: Any) -> Edit:
    return lambda doc: doc[section].update(fields)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            _set("mlstack:sagemaker", endpointName="-bad_name"),
            "a name is 1-63 letters, digits and hyphens, starting and ending with a letter or",
        ),
        (_set("mlstack:sagemaker", instanceType="m5.large"), "an instance type SageMaker"),
        (_set("mlstack:kubernetes", imageDigest="sha256:xyz"), "an image digest: sha256: and 64"),
        (_set("mlstack:monitoring", emailSubscriptions=["nope"]), "an e-mail address"),
        (
            _set("mlstack:eks", adminPrincipalArns=["arn:aws:iam::1:role/x"]),
            "an IAM role or user ARN",
        ),
        (_set("mlstack:kubernetes", cpuRequest="lots"), "a Kubernetes quantity such as 500m"),
        (_set("mlstack:kubernetes", namespace="Bad_NS"), "1-40 lower-case letters"),
        (_set("mlstack:kubernetes", prometheusAddress="prometheus:9090"), "an http:// or https://"),
        (_set("mlstack:model", imageUri="model:latest"), "an ECR image with a tag or digest"),
        (_set("mlstack:network", flowLogRetentionDays=42), "a CloudWatch retention in days"),
    ],
)
def test_pattern_rejections_are_in_words(edit: Edit, words: str) -> None:
    message = rejection(edit)
    assert words in message
    assert "pattern" not in message
    assert "[a-z" not in message


def test_a_number_where_a_string_belongs_says_quote_it() -> None:
    message = rejection(_set("mlstack:eks", kubernetesVersion=1.34))
    assert 'quote it, "1.34"' in message


def test_a_quoted_number_says_remove_the_quotes() -> None:
    message = rejection(_set("mlstack:sagemaker", instanceCount="3"))
    assert "remove the quotes, 3" in message


def test_an_integer_tag_value_becomes_a_string() -> None:
    doc = shipped_doc("production")
    doc["mlstack:tags"]["cost-center"] = 1234
    assert config_from_doc("production", doc).tags["cost-center"] == "1234"


def test_tag_values_accept_unicode_letters() -> None:
    doc = shipped_doc("production")
    doc["mlstack:tags"]["team"] = "ml-plätform"
    assert config_from_doc("production", doc).resource_tags()["team"] == "ml-plätform"


def test_messages_print_letters_as_written() -> None:
    message = rejection(lambda doc: doc["mlstack:tags"].update({"team": "plätform;ops"}))
    assert '"plätform;ops"' in message
    assert "\\u00e4" not in message
