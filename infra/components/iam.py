"""IAM documents shared by the components."""

from __future__ import annotations

import json


def service_trust_policy(service: str, account_id: str | None = None) -> str:
    """A role trust policy for an AWS service principal, scoped to this account if given
    (``aws:SourceAccount``, against the confused-deputy problem)."""
    statement: dict = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)
