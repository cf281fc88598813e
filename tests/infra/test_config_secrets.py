"""``secure:`` only where a credential belongs; EKS admins come from the stack's account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.config import SECRET_PLACEHOLDER
from tests.infra.config_helpers import config_from_doc, rejection, shipped_doc

SECURE = {"secure": "v1:Zm9vYmFy"}


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (
            lambda doc: doc["mlstack:eks"].update(adminPrincipalArns=[SECURE]),
            "mlstack:eks.adminPrincipalArns",
        ),
        (
            lambda doc: doc["mlstack:kubernetes"].update(prometheusAddress=SECURE),
            "mlstack:kubernetes.prometheusAddress",
        ),
        (
            lambda doc: doc["mlstack:kubernetes"].update(modelFetcherImage=SECURE),
            "mlstack:kubernetes.modelFetcherImage",
        ),
        (
            lambda doc: doc["mlstack:sagemaker"]["dataCapture"].update(s3Prefix=SECURE),
            "mlstack:sagemaker.dataCapture.s3Prefix",
        ),
        (lambda doc: doc["mlstack:tags"].update(team=SECURE), "mlstack:tags"),
        (lambda doc: doc.update({"mlstack:owner": SECURE}), "mlstack:owner"),
    ],
)
def test_rejects_secure_value_on_a_key_that_is_no_secret(
    edit: Callable[[dict[str, Any]], object], key: str
) -> None:
    message = rejection(edit)
    assert message.split("\n")[0].split(": ")[1].startswith(key)
    assert "write the value in plain text" in message


def test_accepts_a_secure_webhook_url() -> None:
    doc = shipped_doc("production")
    doc["mlstack:monitoring"]["httpsSubscriptions"] = [SECURE]
    config = config_from_doc("production", doc)
    assert config.monitoring.https_subscriptions == [SECRET_PLACEHOLDER]


def test_accepts_a_fingerprinted_placeholder_where_secure_values_go() -> None:
    doc = shipped_doc("production")
    placeholders = ["[secret:0123456789abcdef]", "[secret:secure-0123456789abcdef]"]
    doc["mlstack:monitoring"]["httpsSubscriptions"] = placeholders
    assert config_from_doc("production", doc).monitoring.https_subscriptions == placeholders


def test_rejects_a_fingerprinted_placeholder_on_a_key_that_is_no_secret() -> None:
    message = rejection(
        lambda doc: doc["mlstack:kubernetes"].update(prometheusAddress="[secret:0123456789abcdef]")
    )
    assert "mlstack:kubernetes.prometheusAddress" in message
    assert "write the value in plain text" in message


def test_rejects_admin_from_another_account() -> None:
    arn = "arn:aws:iam::999999999999:role/contractor"
    message = rejection(lambda doc: doc["mlstack:eks"]["adminPrincipalArns"].append(arn))
    assert "mlstack:eks.adminPrincipalArns[2]" in message
    assert "not in account 123456789012" in message
    assert "externalAdminPrincipalArns" in message


def test_accepts_another_accounts_admin_on_the_reviewed_list() -> None:
    arn = "arn:aws:iam::999999999999:role/contractor"
    doc = shipped_doc("production")
    doc["mlstack:eks"]["adminPrincipalArns"].append(arn)
    doc["mlstack:eks"]["externalAdminPrincipalArns"] = [arn]
    assert arn in config_from_doc("production", doc).eks.admin_principal_arns


def test_eks_needs_the_account_id() -> None:
    message = rejection(lambda doc: doc.pop("mlstack:accountId"))
    assert "mlstack:accountId" in message


def test_rejects_an_account_id_that_is_not_twelve_digits() -> None:
    message = rejection(lambda doc: doc.update({"mlstack:accountId": "12345"}))
    assert "an AWS account ID is 12 digits" in message
