"""The test IAM evaluator on cases whose AWS decision is documented (IAM policy evaluation
logic: explicit deny wins, an unmet condition makes a statement not apply, ? is one character)."""

from __future__ import annotations

import pytest

from tests.iam_evaluator import Decision, evaluate, matches

ALLOW_TAGGED = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sagemaker:*Endpoint",
            "Resource": "arn:aws:sagemaker:*:1:endpoint/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "ml"}},
        },
    ]
}
DENY_ONE = {
    "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:sagemaker:*:1:endpoint/prod"}
    ]
}
ENDPOINT = "arn:aws:sagemaker:us-east-1:1:endpoint/a"


def test_wildcards() -> None:
    assert matches("registry-artifacts-???????", "registry-artifacts-9a68b3d")
    assert not matches("registry-artifacts-???????", "registry-artifacts-9a68b3d0")
    assert not matches("a*", "A1") and matches("s3:get*", "S3:GetObject", ignore_case=True)


def test_allow_needs_action_resource_and_condition() -> None:
    tagged = {"aws:ResourceTag/team": "ml"}
    assert evaluate([ALLOW_TAGGED], "sagemaker:DeleteEndpoint", ENDPOINT, tagged) is Decision.ALLOW
    assert evaluate([ALLOW_TAGGED], "SageMaker:deleteendpoint", ENDPOINT, tagged) is Decision.ALLOW
    other = {"aws:ResourceTag/team": "web"}
    assert (
        evaluate([ALLOW_TAGGED], "sagemaker:DeleteEndpoint", ENDPOINT, other)
        is Decision.IMPLICIT_DENY
    )
    assert (
        evaluate([ALLOW_TAGGED], "sagemaker:DeleteEndpoint", ENDPOINT, {}) is Decision.IMPLICIT_DENY
    )
    model = "arn:aws:sagemaker:us-east-1:1:model/a"
    assert (
        evaluate([ALLOW_TAGGED], "sagemaker:DeleteModel", model, tagged) is Decision.IMPLICIT_DENY
    )


def test_explicit_deny_wins_over_an_allow() -> None:
    prod = "arn:aws:sagemaker:us-east-1:1:endpoint/prod"
    tagged = {"aws:ResourceTag/team": "ml"}
    assert (
        evaluate([ALLOW_TAGGED, DENY_ONE], "sagemaker:DeleteEndpoint", prod, tagged)
        is Decision.EXPLICIT_DENY
    )


def test_negated_operators_and_missing_keys() -> None:
    deny_others = {
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/code/*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::1:role/writer"]}},
            }
        ]
    }
    key = "arn:aws:s3:::b/code/x.py"
    assert (
        evaluate([deny_others], "s3:PutObject", key, {"aws:PrincipalArn": "arn:aws:iam::1:role/x"})
        is Decision.EXPLICIT_DENY
    )
    assert (
        evaluate(
            [deny_others], "s3:PutObject", key, {"aws:PrincipalArn": "arn:aws:iam::1:role/writer"}
        )
        is Decision.IMPLICIT_DENY
    )
    # A negated operator with the key absent applies (IAM's documented behaviour).
    assert evaluate([deny_others], "s3:PutObject", key, {}) is Decision.EXPLICIT_DENY
    multi = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "iam:PassedToService": ["a.amazonaws.com", "b.amazonaws.com"],
                        "aws:ResourceTag/s": "x",
                    }
                },
            }
        ]
    }
    both = {"iam:PassedToService": "b.amazonaws.com", "aws:ResourceTag/s": "x"}
    assert evaluate([multi], "iam:PassRole", "r", both) is Decision.ALLOW
    assert (
        evaluate([multi], "iam:PassRole", "r", {"iam:PassedToService": "b.amazonaws.com"})
        is Decision.IMPLICIT_DENY
    )


def test_if_exists_operators_pass_a_missing_key_and_judge_a_present_one() -> None:
    """IAM's ...IfExists: with the key absent the condition is true; with it present the
    operator without the suffix decides."""
    create_or_own = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "application-autoscaling:RegisterScalableTarget",
                "Resource": "arn:aws:application-autoscaling:*:1:scalable-target/*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/stack": "a"},
                    "StringEqualsIfExists": {"aws:ResourceTag/stack": "a"},
                },
            }
        ]
    }
    action, target = (
        "application-autoscaling:RegisterScalableTarget",
        "arn:aws:application-autoscaling:us-east-1:1:scalable-target/0123abc",
    )
    new = {"aws:RequestTag/stack": "a"}
    assert evaluate([create_or_own], action, target, new) is Decision.ALLOW
    own = {**new, "aws:ResourceTag/stack": "a"}
    assert evaluate([create_or_own], action, target, own) is Decision.ALLOW
    other = {**new, "aws:ResourceTag/stack": "b"}
    assert evaluate([create_or_own], action, target, other) is Decision.IMPLICIT_DENY
    # The suffix does not excuse the operator's other keys: the request tag is still required.
    assert (
        evaluate([create_or_own], action, target, {"aws:ResourceTag/stack": "a"})
        is Decision.IMPLICIT_DENY
    )
    not_like = {
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ArnNotLikeIfExists": {"aws:PrincipalArn": "arn:aws:iam::1:role/x*"}},
            }
        ]
    }
    assert evaluate([not_like], "s3:GetObject", "r", {}) is Decision.EXPLICIT_DENY
    principal = {"aws:PrincipalArn": "arn:aws:iam::1:role/xy"}
    assert evaluate([not_like], "s3:GetObject", "r", principal) is Decision.IMPLICIT_DENY
    with pytest.raises(ValueError, match="NullIfExists"):
        evaluate(
            [
                {
                    "Statement": {
                        **not_like["Statement"][0],
                        "Condition": {"NullIfExists": {"k": "true"}},
                    }
                }
            ],
            "s3:GetObject",
            "r",
            {},
        )
