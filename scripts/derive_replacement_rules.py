#!/usr/bin/env python3
"""Derive which input changes force a replacement, from the providers' own source.

Writes ``mlstack/diff_data/replacement_rules.json``.

Usage::

    python scripts/derive_replacement_rules.py TF_AWS_GIT_DIR \\
        --kubernetes-git-dir PULUMI_KUBERNETES_GIT_DIR \\
        --aws-native-git-dir PULUMI_AWS_NATIVE_GIT_DIR

Each argument is a bare git directory (a snapshot of the repository) that is
read with ``git --git-dir=DIR show REV:PATH``; nothing is checked out or built.

* terraform-provider-aws (bridged by pulumi-aws): an attribute forces a
  replacement when its SDKv2 schema says ``ForceNew: true`` or its Plugin
  Framework schema has a ``RequiresReplace*()`` plan modifier.  Nested blocks
  are walked.  Terraform snake_case paths are turned into the Pulumi camelCase
  input paths by looking the names up in the installed ``pulumi_aws`` Python
  SDK (which also tells the MaxItems=1 blocks that Pulumi flattens into a
  single object, and the list fields Pulumi pluralises).
* pulumi-kubernetes: ``provider/pkg/provider/diff.go`` lists the force-new
  fields per group/version/kind; every object replaces on
  ``metadata.name``/``metadata.namespace``; a Helm Release on
  ``name``/``namespace`` (``helm_release.go``).
* pulumi-aws-native: the CloudFormation resource schema's
  ``createOnlyProperties``.

Paths use ``a.b`` for object fields and ``a[*].b`` for list elements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "mlstack" / "diff_data" / "replacement_rules.json"

# Pulumi type token -> Terraform resource name (pulumi-aws provider/resources.go).
AWS_TYPES: dict[str, str] = {
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/eventRule:EventRule": "aws_cloudwatch_event_rule",
    "aws:cloudwatch/eventTarget:EventTarget": "aws_cloudwatch_event_target",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:eks/accessEntry:AccessEntry": "aws_eks_access_entry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": "aws_eks_access_policy_association",
    "aws:eks/addon:Addon": "aws_eks_addon",
    "aws:eks/cluster:Cluster": "aws_eks_cluster",
    "aws:eks/nodeGroup:NodeGroup": "aws_eks_node_group",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "aws_s3_bucket_lifecycle_configuration"
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition": (
        "aws_sagemaker_data_quality_job_definition"
    ),
    "aws:sagemaker/endpoint:Endpoint": "aws_sagemaker_endpoint",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        "aws_sagemaker_endpoint_configuration"
    ),
    "aws:sagemaker/model:Model": "aws_sagemaker_model",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "aws_sagemaker_model_package_group",
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": "aws_sagemaker_monitoring_schedule",
    "aws:sagemaker/pipeline:Pipeline": "aws_sagemaker_pipeline",
    "aws:scheduler/schedule:Schedule": "aws_scheduler_schedule",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
}

# Pulumi type token -> CloudFormation registry schema file in pulumi-aws-native.
AWS_NATIVE_TYPES: dict[str, str] = {
    "aws-native:sagemaker:InferenceComponent": "aws-sagemaker-inferencecomponent.json",
    "aws-native:sagemaker:ModelQualityJobDefinition": (
        "aws-sagemaker-modelqualityjobdefinition.json"
    ),
    "aws-native:sagemaker:ModelExplainabilityJobDefinition": (
        "aws-sagemaker-modelexplainabilityjobdefinition.json"
    ),
}

# Pulumi type token -> (group, version, kind) as the Kubernetes API names it.
KUBERNETES_TYPES: dict[str, tuple[str, str, str]] = {
    "kubernetes:apps/v1:Deployment": ("apps", "v1", "Deployment"),
    "kubernetes:apps/v1:StatefulSet": ("apps", "v1", "StatefulSet"),
    "kubernetes:apps/v1:DaemonSet": ("apps", "v1", "DaemonSet"),
    "kubernetes:batch/v1:Job": ("batch", "v1", "Job"),
    "kubernetes:core/v1:ConfigMap": ("core", "v1", "ConfigMap"),
    "kubernetes:core/v1:Namespace": ("core", "v1", "Namespace"),
    "kubernetes:core/v1:PersistentVolumeClaim": ("core", "v1", "PersistentVolumeClaim"),
    "kubernetes:core/v1:Pod": ("core", "v1", "Pod"),
    "kubernetes:core/v1:Secret": ("core", "v1", "Secret"),
    "kubernetes:core/v1:Service": ("core", "v1", "Service"),
    "kubernetes:core/v1:ServiceAccount": ("core", "v1", "ServiceAccount"),
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
    ),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": ("networking.k8s.io", "v1", "NetworkPolicy"),
    "kubernetes:policy/v1:PodDisruptionBudget": ("policy", "v1", "PodDisruptionBudget"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
    ),
    # Custom resources: no entry in the force-new table, so name/namespace only.
    "kubernetes:argoproj.io/v1alpha1:Rollout": ("argoproj.io", "v1alpha1", "Rollout"),
    "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate": (
        "argoproj.io",
        "v1alpha1",
        "AnalysisTemplate",
    ),
}


# --------------------------------------------------------------------------- git


def git_show(git_dir: Path, path: str, rev: str = "HEAD") -> str:
    """Return the text of ``path`` at ``rev`` in the bare git directory ``git_dir``."""
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{rev}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def git_ls(git_dir: Path, folder: str, rev: str = "HEAD") -> list[str]:
    """Return the file names directly inside ``folder`` at ``rev``."""
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "--name-only", f"{rev}:{folder}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def git_rev(git_dir: Path) -> tuple[str, str]:
    """Return (commit sha, best version name) of HEAD."""

    def run(*args: str) -> str:
        res = subprocess.run(
            ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=False
        )
        return res.stdout.strip()

    sha = run("rev-parse", "HEAD")
    tag = run("describe", "--tags", "--exact-match", "HEAD") or run("describe", "--tags", "HEAD")
    return sha, tag


# ------------------------------------------------------------------- Go scanning


def skip_string_or_comment(src: str, i: int) -> int:
    """If ``src[i]`` opens a string, rune or comment, return the index just past it."""
    c = src[i]
    if c == '"' or c == "'":
        j = i + 1
        while j < len(src) and src[j] != c:
            j += 2 if src[j] == "\\" else 1
        return j + 1
    if c == "`":
        return src.index("`", i + 1) + 1
    if src.startswith("//", i):
        end = src.find("\n", i)
        return len(src) if end < 0 else end
    if src.startswith("/*", i):
        return src.index("*/", i + 2) + 2
    return i


def match_brace(src: str, open_idx: int) -> int:
    """Return the index of the bracket closing the one at ``open_idx``."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = [pairs[src[open_idx]]]
    i = open_idx + 1
    while i < len(src):
        j = skip_string_or_comment(src, i)
        if j != i:
            i = j
            continue
        c = src[i]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if c != stack.pop():
                raise ValueError(f"unbalanced {c!r} at {i}")
            if not stack:
                return i
        i += 1
    raise ValueError("unclosed bracket")


def split_top_level(body: str) -> list[str]:
    """Split the inside of a composite literal on its top-level commas."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(body):
        j = skip_string_or_comment(body, i)
        if j != i:
            i = j
            continue
        c = body[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return [p for p in (strip_comments(p).strip() for p in parts) if p]


def strip_comments(text: str) -> str:
    """Remove Go comments (keeping strings intact)."""
    out = []
    i = 0
    while i < len(text):
        if text.startswith("//", i) or text.startswith("/*", i):
            i = skip_string_or_comment(text, i)
            continue
        j = skip_string_or_comment(text, i)
        if j != i:
            out.append(text[i:j])
            i = j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def split_key_value(entry: str) -> tuple[str, str] | None:
    """Split ``key: value`` at the first top-level colon."""
    depth = 0
    i = 0
    while i < len(entry):
        j = skip_string_or_comment(entry, i)
        if j != i:
            i = j
            continue
        c = entry[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == ":" and depth == 0:
            return entry[:i].strip(), entry[i + 1 :].strip()
        i += 1
    return None


def literal_body(value: str) -> str | None:
    """Return the inside of the first ``{...}`` in ``value`` (a composite literal)."""
    idx = value.find("{")
    if idx < 0:
        return None
    return value[idx + 1 : match_brace(value, idx)]


def go_key(key: str) -> str | None:
    """Turn a map key (``"name"`` or ``names.AttrName``) into the attribute name."""
    key = key.strip()
    if key.startswith('"') and key.endswith('"'):
        return key[1:-1]
    m = re.fullmatch(r"names\.Attr([A-Za-z0-9]+)", key)
    if m:
        return camel_to_snake(m.group(1))
    return None


def camel_to_snake(name: str) -> str:
    """``TagsAll`` -> ``tags_all``, ``ARN`` -> ``arn``, ``KMSKeyID`` -> ``kms_key_id``."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


@dataclass
class GoPackage:
    """The functions of one Go package, found by name."""

    sources: dict[str, str] = field(default_factory=dict)
    funcs: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, src: str) -> None:
        """Index the functions declared in ``src`` (file ``name``)."""
        self.sources[name] = src
        for m in re.finditer(r"^func (?:\([^)]*\)\s*)?([A-Za-z0-9_]+)\s*\(", src, re.M):
            # Parameters end at the ')' matching the '(' after the name; the body
            # opens with the last '{' on that line (after any result type).
            sig_end = match_brace(src, m.end() - 1)
            line_end = src.find("\n", sig_end)
            brace = src.rfind("{", sig_end, line_end + 1)
            if brace < 0:
                continue
            self.funcs.setdefault(m.group(1), src[brace + 1 : match_brace(src, brace)])
        # Package-level schema maps (``var x = map[string]*schema.Schema{...}``).
        var_re = r"^(?:var\s+|\t)(\w+)\s*=\s*(?:map\[string\]\*schema\.Schema|&schema\.Resource)\{"
        for m in re.finditer(var_re, src, re.M):
            start = m.end() - 1
            self.variables.setdefault(m.group(1), src[m.start() : match_brace(src, start) + 1])

    def returned_literal(self, func: str) -> str | None:
        """Return the composite literal a function returns (its first ``return &x{...}``)."""
        body = self.funcs.get(func)
        if body is None:
            return None
        m = re.search(r"return\s+&?[\w.\[\]*]*\{", body)
        if not m:
            return None
        # Keep the literal's type (``&schema.Resource``) in front of its braces.
        start = m.end() - 1
        return body[m.start() + len("return") : match_brace(body, start) + 1].strip()


CALL_RE = re.compile(r"^&?\(?([A-Za-z_][A-Za-z0-9_]*)\(\)\)?$")


@dataclass
class Rules:
    """Force-new paths (snake_case, ``[*]`` for lists) found in one schema."""

    force_new: list[list[str]] = field(default_factory=list)
    conditional: list[list[str]] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def resolve_value(value: str, pkg: GoPackage) -> str:
    """Follow ``someFunc()`` to the literal that function returns, if it is local."""
    m = CALL_RE.match(value.strip())
    if m:
        lit = pkg.returned_literal(m.group(1))
        if lit is not None:
            return lit
    if value.strip() in pkg.variables:
        var = pkg.variables[value.strip()]
        return var[var.index("=") + 1 :]
    return value


def parse_sdk_schema_map(body: str, pkg: GoPackage, prefix: list[str], rules: Rules) -> None:
    """Walk an SDKv2 ``map[string]*schema.Schema{...}`` body."""
    for entry in split_top_level(body):
        kv = split_key_value(entry)
        if kv is None:
            continue
        name = go_key(kv[0])
        if name is None:
            rules.unresolved.append(".".join([*prefix, kv[0]]))
            continue
        value = kv[1]
        if re.search(r"TagsSchemaForceNew\(\)", value):
            rules.force_new.append([*prefix, name])
            continue
        value = resolve_value(value, pkg)
        body_inner = literal_body(value)
        if body_inner is None:
            continue
        parse_sdk_attribute(body_inner, pkg, [*prefix, name], rules)


def parse_sdk_attribute(body: str, pkg: GoPackage, path: list[str], rules: Rules) -> None:
    """Read one attribute's fields: ForceNew, Type, MaxItems, Elem."""
    fields: dict[str, str] = {}
    for entry in split_top_level(body):
        kv = split_key_value(entry)
        if kv:
            fields[kv[0]] = kv[1]
    if fields.get("ForceNew", "").strip() == "true":
        rules.force_new.append(path)
    elem = fields.get("Elem")
    if not elem:
        return
    elem = resolve_value(elem, pkg)
    if "schema.Resource" not in elem:
        return
    res_body = literal_body(elem)
    if res_body is None:
        return
    is_list = fields.get("Type", "").strip() in ("schema.TypeList", "schema.TypeSet")
    single = fields.get("MaxItems", "").strip() == "1"
    child = [*path[:-1], path[-1] + ("[*]" if is_list and not single else "")]
    schema_value = resource_schema_value(res_body, pkg)
    if schema_value is None:
        rules.unresolved.append(".".join(path))
        return
    parse_sdk_schema_map(schema_value, pkg, child, rules)


def resource_schema_value(res_body: str, pkg: GoPackage) -> str | None:
    """Return the body of the ``Schema:`` map of a ``schema.Resource{...}`` body."""
    for entry in split_top_level(res_body):
        kv = split_key_value(entry)
        if kv is None:
            continue
        key, value = kv
        if key == "Schema":
            value = resolve_value(value, pkg)
            return literal_body(value)
        if key == "SchemaFunc":
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)", value.strip())
            if m:
                lit = pkg.returned_literal(m.group(1))
                return literal_body(lit) if lit else None
            ret = re.search(r"return\s+map\[string\]\*schema\.Schema\{", value)
            if ret:
                start = ret.end() - 1
                return value[start + 1 : match_brace(value, start)]
    return None


def conditional_force_new(func_body: str) -> list[str]:
    """``customdiff.ForceNewIfChange("x", ...)`` and ``d.ForceNew("x")`` calls."""
    names = re.findall(r'ForceNewIf(?:Change|ChangeTo)?\(\s*"([a-z0-9_.]+)"', func_body)
    names += re.findall(r'\.ForceNew\(\s*"([a-z0-9_.]+)"', func_body)
    return sorted(set(names))


def parse_sdk_resource(func_body: str, pkg: GoPackage) -> Rules:
    """Parse a ``func ResourceX() *schema.Resource { return &schema.Resource{...} }`` body."""
    rules = Rules()
    m = re.search(r"&schema\.Resource\{", func_body)
    if not m:
        raise ValueError("no schema.Resource literal")
    start = m.end() - 1
    res_body = func_body[start + 1 : match_brace(func_body, start)]
    schema_body = resource_schema_value(res_body, pkg)
    if schema_body is None:
        raise ValueError("no Schema in schema.Resource")
    parse_sdk_schema_map(schema_body, pkg, [], rules)
    for name in conditional_force_new(func_body):
        rules.conditional.append(name.split("."))
    return rules


# Plugin Framework -------------------------------------------------------------


def parse_framework_schema(schema_body: str, pkg: GoPackage | None = None) -> Rules:
    """Parse the body of a Plugin Framework ``schema.Schema{...}`` literal."""
    rules = Rules()
    _framework_object(schema_body, pkg or GoPackage(), [], rules)
    return rules


def _framework_object(body: str, pkg: GoPackage, prefix: list[str], rules: Rules) -> None:
    for entry in split_top_level(body):
        kv = split_key_value(entry)
        if kv is None or kv[0] not in ("Attributes", "Blocks"):
            continue
        inner = literal_body(resolve_value(kv[1], pkg))
        if inner is None:
            continue
        for item in split_top_level(inner):
            ikv = split_key_value(item)
            if ikv is None:
                continue
            name = go_key(ikv[0])
            if name is None:
                rules.unresolved.append(".".join([*prefix, ikv[0]]))
                continue
            _framework_attribute(name, ikv[1], pkg, prefix, rules)


def _framework_attribute(
    name: str, value: str, pkg: GoPackage, prefix: list[str], rules: Rules
) -> None:
    value = resolve_value(value, pkg)
    kind = re.match(r"\s*(?:schema\.)?([A-Za-z]+)", value)
    kind_name = kind.group(1) if kind else ""
    body = literal_body(value)
    if body is None:
        return
    fields: dict[str, str] = {}
    for entry in split_top_level(body):
        kv = split_key_value(entry)
        if kv:
            fields[kv[0]] = kv[1]
    mods = fields.get("PlanModifiers", "")
    if re.search(r"RequiresReplace(IfConfigured)?\(\)", mods):
        rules.force_new.append([*prefix, name])
    elif "RequiresReplaceIf" in mods:
        rules.conditional.append([*prefix, name])
    nested = fields.get("NestedObject")
    if nested:
        is_list = kind_name.startswith(("List", "Set"))
        single = "listvalidator.SizeAtMost(1)" in fields.get("Validators", "")
        child = [*prefix, name + ("[*]" if is_list and not single else "")]
        nested_body = literal_body(resolve_value(nested, pkg))
        if nested_body is not None:
            _framework_object(nested_body, pkg, child, rules)
    elif kind_name.startswith("SingleNested"):
        _framework_object(body, pkg, [*prefix, name], rules)


# --------------------------------------------------------- terraform resources


def load_package(git_dir: Path, folder: str) -> GoPackage:
    """Read every non-test Go file of one package directory."""
    pkg = GoPackage()
    for name in git_ls(git_dir, folder):
        if name.endswith(".go") and not name.endswith("_test.go"):
            pkg.add(name, git_show(git_dir, f"{folder}/{name}"))
    return pkg


def find_service(git_dir: Path, tf_name: str) -> tuple[str, str, bool]:
    """Return (service folder, factory function, is_framework) for a Terraform resource."""
    out = subprocess.run(
        [
            "git",
            f"--git-dir={git_dir}",
            "grep",
            "-l",
            "-F",
            f'"{tf_name}"',
            "HEAD",
            "--",
            "internal/service/*/service_package_gen.go",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for hit in out:
        path = hit.split(":", 1)[1]
        src = git_show(git_dir, path)
        # Data sources share type names with resources: look in SDKResources only.
        src = src[src.find("SDKResources(") :]
        m = re.search(
            r"Factory:\s*([A-Za-z0-9_]+),\s*TypeName:\s*\"" + re.escape(tf_name) + '"', src
        )
        if m:
            return path.rsplit("/", 1)[0], m.group(1), False
    # Framework resources name themselves in their Metadata method.
    grep = subprocess.run(
        [
            "git",
            f"--git-dir={git_dir}",
            "grep",
            "-l",
            "-E",
            f'TypeName = "{tf_name}"|SetTypeName\\("{tf_name}"|"{tf_name}"',
            "HEAD",
            "--",
            "internal/service/",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for hit in grep:
        path = hit.split(":", 1)[1]
        if path.endswith("_test.go") or path.endswith("_gen.go"):
            continue
        src = git_show(git_dir, path)
        if "resp.Schema = schema.Schema{" in src or "response.Schema = schema.Schema{" in src:
            return path.rsplit("/", 1)[0], path, True
    raise LookupError(f"{tf_name}: not found in {git_dir}")


def terraform_rules(git_dir: Path, tf_name: str, cache: dict[str, GoPackage]) -> Rules:
    """Return the force-new attribute paths of one Terraform resource."""
    folder, factory, framework = find_service(git_dir, tf_name)
    if folder not in cache:
        cache[folder] = load_package(git_dir, folder)
    pkg = cache[folder]
    if framework:
        src = pkg.sources[factory.rsplit("/", 1)[1]]
        m = re.search(r"(?:resp|response)\.Schema = schema\.Schema\{", src)
        assert m
        start = m.end() - 1
        return parse_framework_schema(src[start + 1 : match_brace(src, start)], pkg)
    body = pkg.funcs.get(factory)
    if body is None:
        raise LookupError(f"{tf_name}: factory {factory} not found in {folder}")
    return parse_sdk_resource(body, pkg)


# ----------------------------------------------------- Pulumi name conversion


def snake_to_camel(name: str) -> str:
    """``instance_type`` -> ``instanceType``."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _plurals(name: str) -> list[str]:
    out = [name, name + "s", name + "es"]
    if name.endswith("y"):
        out.append(name[:-1] + "ies")
    return out


def _pulumi_props(cls: type) -> dict[str, tuple[str, str]]:
    """python name -> (pulumi input name, annotation text) of an ``*Args`` class."""
    props: dict[str, tuple[str, str]] = {}
    for attr, value in vars(cls).items():
        if isinstance(value, property) and value.fget is not None:
            pname = getattr(value.fget, "_pulumi_name", None) or snake_to_camel(attr)
            ann = value.fget.__annotations__.get("return", "")
            props[attr] = (pname, ann if isinstance(ann, str) else repr(ann))
    return props


def _annotation_class(ann: str) -> tuple[str | None, bool]:
    """The nested ``*Args`` class named in an annotation and whether it is a list."""
    m = re.search(r"'?([A-Z][A-Za-z0-9]*Args)'?", ann)
    is_list = "Sequence[" in ann or "List[" in ann or "list[" in ann
    return (m.group(1) if m else None), is_list


# Top-level fields that pulumi-aws renames (provider/resources.go field overrides).
PULUMI_RENAMES: dict[tuple[str, str], str] = {
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm_name"): "name",
    ("aws:sns/topicSubscription:TopicSubscription", "topic_arn"): "topic",
}


def pulumi_args_class(token: str) -> tuple[Any, type] | None:
    """Return (module, ``XArgs`` class) of a pulumi-aws resource token, if importable."""
    _, mod_path, cls = token.split(":")
    module_name = mod_path.split("/")[0]
    try:
        package = importlib.import_module(f"pulumi_aws.{module_name}")
    except ImportError:
        return None
    resource = getattr(package, cls, None)
    if resource is None:
        return None
    # The resource's own module defines its Args class (a nested input type of
    # another resource may share the name in the package namespace).
    module = sys.modules[resource.__module__]
    # Where a nested input type already took ``XArgs``, the resource's is ``XInitArgs``.
    args = getattr(module, f"{cls}InitArgs", None) or getattr(module, f"{cls}Args", None)
    return (package, args) if args is not None else None


def has_injected_region(token: str) -> bool:
    """Whether the installed pulumi-aws gives ``token`` a top-level ``region`` input."""
    found = pulumi_args_class(token)
    return found is not None and "region" in _pulumi_props(found[1])


def to_pulumi_path(token: str, tf_path: list[str], notes: list[str]) -> str | None:
    """Turn a Terraform attribute path into the Pulumi input path of ``token``.

    Returns ``None`` when the installed pulumi-aws has no such input (an
    attribute the pinned provider no longer has cannot change in a plan).
    """
    found = pulumi_args_class(token)
    module = found[0] if found else None
    cls: type | None = found[1] if found else None
    out: list[str] = []
    for part in tf_path:
        tf_list = part.endswith("[*]")
        name = part[:-3] if tf_list else part
        camel = snake_to_camel(name) + ("[*]" if tf_list else "")
        if cls is None:
            out.append(camel)
            continue
        props = _pulumi_props(cls)
        renamed = PULUMI_RENAMES.get((token, name))
        match = renamed or next((p for p in _plurals(name) if p in props), None)
        if match is None:
            notes.append(f"{token}: {'.'.join(tf_path)}: no Pulumi input {name!r}, dropped")
            return None
        pname, ann = props[match]
        nested, is_list = _annotation_class(ann)
        out.append(pname + ("[*]" if is_list and nested else ""))
        if is_list and not nested and tf_list:
            out[-1] = pname + "[*]"
        cls = getattr(module, nested, None) if nested else None
    return ".".join(out)


# --------------------------------------------------------------- kubernetes


def _go_string_list(text: str) -> list[str]:
    return re.findall(r'"([^"]*)"', strip_comments(text))


def kubernetes_force_new(diff_go: str) -> dict[tuple[str, str, str], list[str]]:
    """Evaluate the force-new table of pulumi-kubernetes ``diff.go``.

    Returns (group, version, kind) -> force-new paths (without leading dot),
    metadata name/namespace included.
    """
    src = strip_comments(diff_go)
    helpers: dict[str, tuple[str, list[str]]] = {}
    for m in re.finditer(r"func (\w+)\((\w+)[^)]*\)\s*properties\s*\{", src):
        start = m.end() - 1
        body = src[start : match_brace(src, start) + 1]
        helpers[m.group(1)] = (m.group(2), _go_string_list(body))

    def eval_props(expr: str) -> list[str]:
        expr = expr.strip()
        if expr.startswith("append("):
            inner = expr[len("append(") : match_brace(expr, len("append"))]
            out: list[str] = []
            for part in split_top_level(inner):
                out += eval_props(part.rstrip(".").rstrip("."))
            return out
        if expr.startswith("properties{"):
            return _go_string_list(expr)
        call = re.match(r"(\w+)\((.*)\)\.*$", expr, re.S)
        if call and call.group(1) in helpers:
            _, templ = helpers[call.group(1)]
            out = []
            for arg in _go_string_list(call.group(2)):
                out += [arg + t for t in templ]
            return out
        if expr in variables:
            return variables[expr]
        raise ValueError(f"cannot evaluate {expr!r}")

    variables: dict[str, Any] = {}
    # Simple ``var x = ...`` declarations, in source order.
    for m in re.finditer(r"^var (\w+) = ", src, re.M):
        start = m.end()
        # The expression ends at the bracket closing its first opening bracket.
        first = min(i for i in (src.find("{", start), src.find("(", start)) if i >= 0)
        end = match_brace(src, first)
        variables[m.group(1)] = src[start : end + 1]

    def eval_kinds(expr: str) -> dict[str, list[str]]:
        body = literal_body(expr) or ""
        out: dict[str, list[str]] = {}
        for entry in split_top_level(body):
            kv = split_key_value(entry)
            if kv:
                out[kv[0].strip('"')] = eval_props(kv[1])
        return out

    def eval_versions(expr: str) -> dict[str, dict[str, list[str]]]:
        if re.fullmatch(r"\w+", expr.strip()):
            expr = variables[expr.strip()]
        body = literal_body(expr) or ""
        out = {}
        for entry in split_top_level(body):
            kv = split_key_value(entry)
            if kv:
                out[kv[0].strip('"')] = eval_kinds(kv[1])
        return out

    resolved: dict[str, Any] = {}
    for name, expr in list(variables.items()):
        if name in ("forceNew", "core"):
            continue
        resolved[name] = eval_props(expr)
    variables.update(resolved)
    table: dict[tuple[str, str, str], list[str]] = {}
    groups_body = literal_body(variables["forceNew"]) or ""
    for entry in split_top_level(groups_body):
        kv = split_key_value(entry)
        if not kv:
            continue
        group = kv[0].strip('"')
        for version, kinds in eval_versions(kv[1]).items():
            for kind, props in kinds.items():
                table[(group, version, kind)] = props
    meta = [p for (_, templ) in [helpers["metadataForceNewProperties"]] for p in templ]
    table_with_meta = {k: [f".metadata{m}" for m in meta] + v for k, v in table.items()}
    table_with_meta[("*", "*", "*")] = [f".metadata{m}" for m in meta]
    return {k: sorted({p.lstrip(".") for p in v}) for k, v in table_with_meta.items()}


def kubernetes_section(git_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Replacement rules of the kubernetes types, and the provider resource's rules."""
    diff_go = git_show(git_dir, "provider/pkg/provider/diff.go")
    table = kubernetes_force_new(diff_go)
    types: dict[str, Any] = {}
    for token, (group, version, kind) in sorted(KUBERNETES_TYPES.items()):
        paths = table.get((group, version, kind), table[("*", "*", "*")])
        types[token] = {"replaceOn": paths}
    secret = types.get("kubernetes:core/v1:Secret")
    if secret is not None:
        # diff.go: a Secret also replaces on type/stringData/data unless enableSecretMutable.
        secret["replaceOn"] = sorted(set(secret["replaceOn"]) | {"type", "stringData", "data"})
        secret["note"] = "data/stringData replace unless the provider sets enableSecretMutable"
    configmap = types.get("kubernetes:core/v1:ConfigMap")
    if configmap is not None:
        configmap["replaceOn"] = sorted(set(configmap["replaceOn"]) | {"binaryData", "data"})
        configmap["note"] = (
            "data/binaryData replace unless the provider sets enableConfigMapMutable"
        )
    helm = git_show(git_dir, "provider/pkg/provider/helm_release.go")
    m = re.search(r"forceNewFields := \[\]string\{([^}]*)\}", helm)
    helm_fields = sorted(p.lstrip(".") for p in _go_string_list(m.group(1))) if m else []
    types["kubernetes:helm.sh/v3:Release"] = {"replaceOn": helm_fields}
    provider_go = git_show(git_dir, "provider/pkg/provider/provider.go")
    keys: list[str] = []
    dm = re.search(r"func \(k \*kubeProvider\) DiffConfig\(", provider_go)
    if dm:
        body_start = provider_go.index("{", provider_go.index(")", dm.end()) + 1)
        body = provider_go[body_start : match_brace(provider_go, body_start)]
        for lm in re.finditer(r"for _, key := range \[\][\w.]+\{([^}]*)\}", body):
            keys += _go_string_list(lm.group(1))
        if "renderYamlToDirectory" in body:
            keys.append("renderYamlToDirectory")
        if "clusterIdentifierKey" in body:
            keys.append("clusterIdentifier")
    provider_rule = {
        "replaceOn": sorted(set(keys)),
        "note": (
            "DiffConfig: a change of kubeconfig/context/cluster replaces only when the active "
            "cluster changes; when clusterIdentifier is set, only a change of clusterIdentifier "
            "replaces. A provider replacement replaces every resource it manages."
        ),
    }
    return types, provider_rule


# ---------------------------------------------------------------- aws-native


def cfn_path_to_pulumi(pointer: str) -> str:
    """``/properties/EndpointName`` -> ``endpointName``; ``/properties/A/*/B`` -> ``a[*].b``."""
    parts = pointer.split("/")[2:]
    out: list[str] = []
    for p in parts:
        if p == "*":
            if out:
                out[-1] += "[*]"
            continue
        out.append(p[:1].lower() + p[1:])
    return ".".join(out)


AWS_NATIVE_PROVIDER_GO = "provider/pkg/provider/provider.go"
"""The aws-native provider's gRPC server; its ``DiffConfig`` decides provider replacement."""


def aws_native_provider_rule(git_dir: Path) -> dict[str, Any]:
    """The explicit provider's rule: the config keys ``DiffConfig`` reports as replacements.
    Its body appends every changed key to ``diffs``; a key appended to ``replaces`` is
    listed, and a body that appends none replaces on nothing."""
    source = git_show(git_dir, AWS_NATIVE_PROVIDER_GO)
    start = source.index(") DiffConfig(")
    end = source.index("\nfunc ", start)
    body = source[start:end]
    keys = sorted(set(re.findall(r'replaces = append\(replaces, "([A-Za-z]+)"\)', body)))
    if "replaces = append" in body and not keys:
        raise SystemExit(f"{AWS_NATIVE_PROVIDER_GO}: DiffConfig replaces on keys not read here")
    return {
        "replaceOn": keys,
        "note": "DiffConfig: every changed provider key (region, profile, ...) is an update of "
        "the provider, not a replacement, so the resources it manages stay.",
    }


def aws_native_section(git_dir: Path) -> dict[str, Any]:
    """Replacement rules of the aws-native types, from createOnlyProperties, and of the
    explicit aws-native provider."""
    types: dict[str, Any] = {}
    for token, fname in sorted(AWS_NATIVE_TYPES.items()):
        schema = json.loads(git_show(git_dir, f"aws-cloudformation-schema/{fname}"))
        paths = sorted({cfn_path_to_pulumi(p) for p in schema.get("createOnlyProperties", [])})
        types[token] = {"replaceOn": paths}
    types["pulumi:providers:aws-native"] = aws_native_provider_rule(git_dir)
    return types


# --------------------------------------------------------------------- main


def build(tf_dir: Path, k8s_dir: Path | None, native_dir: Path | None) -> dict[str, Any]:
    """Build the whole replacement-rules document."""
    notes: list[str] = []
    types: dict[str, Any] = {}
    cache: dict[str, GoPackage] = {}
    injected_region: list[str] = []
    for token, tf_name in sorted(AWS_TYPES.items()):
        try:
            rules = terraform_rules(tf_dir, tf_name, cache)
        except (LookupError, ValueError) as exc:
            raise SystemExit(f"{token} ({tf_name}): {exc}") from exc
        replace = {to_pulumi_path(token, p, notes) for p in rules.force_new} - {None}
        if has_injected_region(token) and ["region"] not in rules.force_new:
            # terraform-provider-aws v6 injects a top-level ``region`` argument into
            # every regional resource and replaces the resource when it changes
            # (``forceNewIfRegionChanges`` in internal/provider); pulumi-aws 7 exposes it.
            replace.add("region")
            injected_region.append(token)
        replace = sorted(replace)
        entry: dict[str, Any] = {"terraform": tf_name, "replaceOn": replace}
        if rules.conditional:
            entry["replaceOnIf"] = sorted(
                {to_pulumi_path(token, p, notes) for p in rules.conditional} - {None}
            )
        if rules.unresolved:
            notes.append(f"{token}: unresolved schema entries {rules.unresolved}")
        types[token] = entry
    if injected_region:
        notes.append(
            "region: added to every type whose pulumi-aws inputs have the per-resource "
            "region of terraform-provider-aws v6 (forceNewIfRegionChanges); "
            f"{len(injected_region)} types"
        )
    sha, tag = git_rev(tf_dir)
    changelog = git_show(tf_dir, "CHANGELOG.md").splitlines()
    version = tag or next((line.lstrip("# ").strip() for line in changelog if line.strip()), sha)
    source: dict[str, Any] = {
        "provider": "terraform-provider-aws",
        "version": version,
        "commit": sha,
        "pulumiAws": importlib.metadata.version("pulumi-aws"),
        "derived": dt.date.today().isoformat(),
    }
    if k8s_dir is not None:
        k8s_types, provider_rule = kubernetes_section(k8s_dir)
        types.update(k8s_types)
        types["pulumi:providers:kubernetes"] = provider_rule
        k_sha, k_tag = git_rev(k8s_dir)
        source["pulumiKubernetes"] = {
            "version": k_tag,
            "commit": k_sha,
            "installed": importlib.metadata.version("pulumi-kubernetes"),
        }
    if native_dir is not None:
        types.update(aws_native_section(native_dir))
        n_sha, n_tag = git_rev(native_dir)
        source["pulumiAwsNative"] = {"version": n_tag, "commit": n_sha}
    doc = {"source": source, "types": dict(sorted(types.items()))}
    if notes:
        doc["notes"] = notes
    return doc


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tf_git_dir", type=Path, help="bare git dir of terraform-provider-aws")
    ap.add_argument("--kubernetes-git-dir", type=Path, help="bare git dir of pulumi-kubernetes")
    ap.add_argument("--aws-native-git-dir", type=Path, help="bare git dir of pulumi-aws-native")
    ap.add_argument("--version-note", help="free text recorded as source.versionNote")
    ap.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    doc = build(args.tf_git_dir, args.kubernetes_git_dir, args.aws_native_git_dir)
    if args.version_note:
        doc["source"]["versionNote"] = args.version_note
    args.output.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    print(f"wrote {args.output}: {len(doc['types'])} types", file=sys.stderr)
    for note in doc.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
