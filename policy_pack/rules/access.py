"""Who may do what: IAM trust and permission policies, resource policies, security groups and
instance metadata. The kit's config cannot produce a violation of these; a code change can,
and the pack exists to catch code changes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from policy_pack.rules.base import (
    Inputs,
    ResourceRule,
    as_list,
    get,
    number,
    policy_statements,
    strings,
)
from policy_pack.type_tokens import (
    EC2_INSTANCE,
    EC2_LAUNCH_TEMPLATE,
    EC2_SECURITY_GROUP,
    EC2_SECURITY_GROUP_RULE,
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
    KMS_KEY,
    KMS_KEY_POLICY,
    S3_BUCKET_POLICY,
    SNS_TOPIC_POLICY,
    SQS_QUEUE_POLICY,
    VPC_SECURITY_GROUP_INGRESS_RULE,
)

PERMISSION_POLICY_TYPES = (IAM_ROLE, IAM_POLICY, IAM_ROLE_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY)
RESOURCE_POLICY_TYPES = (
    S3_BUCKET_POLICY,
    SNS_TOPIC_POLICY,
    SQS_QUEUE_POLICY,
    KMS_KEY,
    KMS_KEY_POLICY,
)
"""Resource policies; ECR repository policies have their own rule (ecr-no-public-policy)."""

OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
"""Ranges that mean "the whole internet"."""
RESTRICTING_CONDITION_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOrgID",
        "kms:CallerAccount",
        "kms:ViaService",
    )
)
"""Condition keys that narrow a ``*`` principal to known accounts, ARNs or networks."""
SENSITIVE_SERVICES = ("iam", "kms", "s3", "sts", "sagemaker", "ecr", "eks", "ec2", "secretsmanager")
"""Services whose ``<service>:*`` on every resource hands over an account."""
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"


def _sid(statement: Mapping[str, Any]) -> str:
    return str(statement.get("Sid") or "a statement")


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for operator_block in as_list(statement.get("Condition")):
        if isinstance(operator_block, Mapping):
            for block in operator_block.values():
                if isinstance(block, Mapping):
                    keys.update(str(k).lower() for k in block)
    return keys


def _condition_values(statement: Mapping[str, Any], key_suffix: str) -> list[str]:
    values: list[str] = []
    for operator_block in as_list(statement.get("Condition")):
        if isinstance(operator_block, Mapping):
            for block in operator_block.values():
                if isinstance(block, Mapping):
                    for key, value in block.items():
                        if str(key).lower().endswith(key_suffix):
                            values += strings(value)
    return values


def _principals(statement: Mapping[str, Any], kind: str) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    return strings(get(principal, kind))


def allows_anyone(statement: Mapping[str, Any]) -> bool:
    """An Allow to any principal that no condition narrows to known accounts or networks."""
    if statement.get("Effect") != "Allow":
        return False
    anyone = "*" in _principals(statement, "AWS") or statement.get("Principal") == "*"
    return anyone and not (_condition_keys(statement) & RESTRICTING_CONDITION_KEYS)


def _trust_document(inputs: Inputs) -> object:
    return inputs.get("assumeRolePolicy")


def _iam_trust_no_wildcard(_: str, inputs: Inputs) -> Iterable[str]:
    for statement in policy_statements(_trust_document(inputs)):
        if allows_anyone(statement):
            yield f"the role's trust policy ({_sid(statement)}) lets any principal assume it: " + (
                "name the service, account or role that may"
            )


def _iam_web_identity_scoped(_: str, inputs: Inputs) -> Iterable[str]:
    for statement in policy_statements(_trust_document(inputs)):
        actions = strings(statement.get("Action"))
        if statement.get("Effect") != "Allow" or WEB_IDENTITY not in actions:
            continue
        subjects = _condition_values(statement, ":sub")
        audiences = _condition_values(statement, ":aud")
        if not subjects:
            yield f"the web-identity trust ({_sid(statement)}) has no ':sub' condition: any " + (
                "workload of the identity provider could assume the role"
            )
        elif any(s == "*" or (s.endswith(":*") and s.count(":") < 2) for s in subjects):
            yield f"the web-identity trust ({_sid(statement)}) accepts any subject: name one"
        if not audiences:
            yield f"the web-identity trust ({_sid(statement)}) has no audience: add ':aud'"


def permission_documents(type_token: str, inputs: Inputs) -> list[object]:
    """The permission policy documents of a role (inline) or a policy resource."""
    if type_token == IAM_ROLE:
        return [get(p, "policy") for p in as_list(inputs.get("inlinePolicies"))]
    return [inputs.get("policy")]


def _iam_no_not_action(type_token: str, inputs: Inputs) -> Iterable[str]:
    for document in permission_documents(type_token, inputs):
        for statement in policy_statements(document):
            if statement.get("Effect") == "Allow":
                for key in ("NotAction", "NotResource"):
                    if key in statement:
                        yield f"IAM policy ({_sid(statement)}) allows by {key}: " + (
                            "everything not listed is granted; list what is allowed instead"
                        )


_SERVICE_WILDCARD = re.compile(r"^(?P<service>[a-z0-9-]+):\*$", re.IGNORECASE)


def _scoped_by_condition(statement: Mapping[str, Any]) -> bool:
    """Whether a condition narrows the statement to known accounts, networks or tagged
    resources (``aws:ResourceTag/...``, ``aws:RequestTag/...``)."""
    keys = _condition_keys(statement)
    tagged = any(k.startswith(("aws:resourcetag/", "aws:requesttag/")) for k in keys)
    return tagged or bool(keys & RESTRICTING_CONDITION_KEYS)


def _iam_no_service_wildcard_on_everything(type_token: str, inputs: Inputs) -> Iterable[str]:
    for document in permission_documents(type_token, inputs):
        for statement in policy_statements(document):
            if statement.get("Effect") != "Allow" or "*" not in strings(statement.get("Resource")):
                continue
            if _scoped_by_condition(statement):
                continue
            for action in strings(statement.get("Action")):
                match = _SERVICE_WILDCARD.match(action)
                if match and match["service"].lower() in SENSITIVE_SERVICES:
                    yield f"IAM policy ({_sid(statement)}) allows {action} on every resource: " + (
                        "list the actions and the resources they apply to"
                    )


def _resource_policy_not_public(_: str, inputs: Inputs) -> Iterable[str]:
    for statement in policy_statements(inputs.get("policy")):
        if allows_anyone(statement):
            yield f"resource policy ({_sid(statement)}) allows any principal: name them, " + (
                "or add a condition on account, organisation, source ARN or VPC endpoint"
            )


def _ingress_cidrs(type_token: str, inputs: Inputs) -> list[tuple[str, str]]:
    """(description, cidr) of every ingress range the resource opens."""
    if type_token == EC2_SECURITY_GROUP:
        found = []
        for rule in as_list(inputs.get("ingress")):
            label = str(get(rule, "description") or f"port {get(rule, 'fromPort')}")
            found += [(label, c) for c in strings(get(rule, "cidrBlocks"))]
            found += [(label, c) for c in strings(get(rule, "ipv6CidrBlocks"))]
        return found
    if type_token == EC2_SECURITY_GROUP_RULE:
        if inputs.get("type") != "ingress":
            return []
        label = str(inputs.get("description") or f"port {inputs.get('fromPort')}")
        cidrs = strings(inputs.get("cidrBlocks")) + strings(inputs.get("ipv6CidrBlocks"))
        return [(label, c) for c in cidrs]
    label = str(inputs.get("description") or f"port {inputs.get('fromPort')}")
    cidrs = strings(inputs.get("cidrIpv4")) + strings(inputs.get("cidrIpv6"))
    return [(label, c) for c in cidrs]


def _security_group_no_open_ingress(type_token: str, inputs: Inputs) -> Iterable[str]:
    for label, cidr in _ingress_cidrs(type_token, inputs):
        if cidr in OPEN_CIDRS:
            yield f"security group ingress '{label}' is open to {cidr}: allow the VPC range " + (
                "or a security group instead"
            )


def _imds_hop_limit(_: str, inputs: Inputs) -> Iterable[str]:
    hops = number(get(inputs, "metadataOptions", "httpPutResponseHopLimit"))
    if hops is not None and hops > 1:
        yield f"instance metadata answers {int(hops)} network hops away: containers on the " + (
            "node can take the node role's credentials; set the hop limit to 1"
        )


RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        name="iam-trust-no-wildcard-principal",
        description='No role\'s trust policy lets any principal ("*") assume it without a '
        "condition naming accounts, organisations or source ARNs.",
        resource_types=(IAM_ROLE,),
        check=_iam_trust_no_wildcard,
        fix="in the component that declares the role, name the service, account or role in "
        "the trust policy's Principal",
        checkov_id="CKV_AWS_60",
    ),
    ResourceRule(
        name="iam-web-identity-trust-scoped",
        description="Roles trusted by an OIDC provider (GitHub Actions, EKS service accounts) "
        "require exact ':sub' and ':aud' conditions.",
        resource_types=(IAM_ROLE,),
        check=_iam_web_identity_scoped,
        fix="add StringEquals conditions on '<provider>:sub' (repository and environment, or "
        "namespace and service account) and '<provider>:aud'",
        checkov_id="CKV_AWS_393",
    ),
    ResourceRule(
        name="iam-no-not-action",
        description="IAM policies allow by listing actions and resources, never by NotAction "
        "or NotResource.",
        resource_types=PERMISSION_POLICY_TYPES,
        check=_iam_no_not_action,
        fix="replace NotAction/NotResource with the list of actions and resources allowed",
    ),
    ResourceRule(
        name="iam-no-service-wildcard-on-all-resources",
        description="IAM policies never allow a sensitive service's every action (iam:*, "
        "kms:*, s3:*, ...) on every resource.",
        resource_types=PERMISSION_POLICY_TYPES,
        check=_iam_no_service_wildcard_on_everything,
        fix="list the actions needed and the ARNs they apply to",
        checkov_id="CKV_AWS_355",
    ),
    ResourceRule(
        name="resource-policy-not-public",
        description="S3 bucket, SNS topic, SQS queue and KMS key policies never allow any "
        "principal without a restricting condition.",
        resource_types=RESOURCE_POLICY_TYPES,
        check=_resource_policy_not_public,
        fix="name the accounts, roles or services in Principal, or add a condition on "
        "aws:SourceAccount, aws:SourceArn, aws:PrincipalOrgID or aws:SourceVpce",
        checkov_id="CKV_AWS_70/CKV_AWS_169/CKV_AWS_33",
    ),
    ResourceRule(
        name="security-group-no-open-ingress",
        description="No security group accepts traffic from the whole internet (0.0.0.0/0 or "
        "::/0).",
        resource_types=(
            EC2_SECURITY_GROUP,
            EC2_SECURITY_GROUP_RULE,
            VPC_SECURITY_GROUP_INGRESS_RULE,
        ),
        check=_security_group_no_open_ingress,
        fix="allow the VPC's range (mlstack:network.cidr) or a source security group",
        checkov_id="CKV_AWS_24/CKV_AWS_25/CKV_AWS_260/CKV_AWS_277",
    ),
    ResourceRule(
        name="imds-hop-limit-one",
        description="Instance metadata answers only the instance itself (hop limit 1), so "
        "pods cannot take the node role's credentials.",
        resource_types=(EC2_LAUNCH_TEMPLATE, EC2_INSTANCE),
        check=_imds_hop_limit,
        fix="keep the node launch template's metadata hop limit at 1 (cluster component, "
        "mlstack:eks.nodeGroup); pods reach AWS through IRSA",
        checkov_id="CKV_AWS_341",
    ),
)
