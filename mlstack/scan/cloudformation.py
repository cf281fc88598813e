"""Convert a stack's pulumi-aws-native resources to a CloudFormation template, so checkov's
``cloudformation`` framework scans them.

pulumi-aws-native is generated from the CloudFormation resource schemas (through Cloud
Control), so the mapping is mechanical: ``aws-native:<module>:<Kind>`` is
``AWS::<Service>::<Kind>`` (the service spelt as CloudFormation spells it,
:data:`SERVICE_NAMES`), and every camelCase property is the schema's PascalCase one. Values of
free-form string maps (``environment``) keep their keys; tags become CloudFormation's
``[{Key, Value}]`` list, as they already are.
"""

from __future__ import annotations

import re
from typing import Any

from mlstack.offline.plan import Plan, PlannedResource
from policy_pack.type_tokens import (
    AWS_NATIVE_PREFIX,
)

SERVICE_NAMES = {"sagemaker": "SageMaker", "iam": "IAM", "s3": "S3", "ec2": "EC2"}
"""CloudFormation's spelling of a module where capitalising the first letter is wrong."""
FREE_FORM = frozenset({"environment"})
"""Properties whose keys are the user's (string maps), converted as they are."""


def cloudformation_type(type_token: str) -> str | None:
    """``AWS::SageMaker::ModelQualityJobDefinition`` for an aws-native token, else None."""
    if not type_token.startswith(AWS_NATIVE_PREFIX) or type_token.count(":") != 2:
        return None
    _, module, kind = type_token.split(":")
    service = SERVICE_NAMES.get(module, module[:1].upper() + module[1:])
    return f"AWS::{service}::{kind}"


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _convert(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key in FREE_FORM:
            return dict(value)
        return {_pascal(k): _convert(v, k) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value


def _logical_id(resource: PlannedResource, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]", "", resource.name.title()) or "Resource"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate


def convert_native(plan: Plan) -> dict[str, Any]:
    """Every aws-native resource of ``plan`` as one CloudFormation template (possibly empty)."""
    resources: dict[str, Any] = {}
    taken: set[str] = set()
    for resource in plan.resources:
        cfn_type = cloudformation_type(resource.type) if resource.custom else None
        if cfn_type is None:
            continue
        resources[_logical_id(resource, taken)] = {
            "Type": cfn_type,
            "Properties": _convert(dict(resource.inputs)),
        }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
