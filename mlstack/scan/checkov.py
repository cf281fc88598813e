"""``mlstack scan``: checkov, offline, over everything a stack ships.

Four inputs, one checkov run (``--skip-download``, so nothing leaves the machine):

- ``terraform/main.tf.json``: the stack's AWS resources converted to Terraform JSON by
  :mod:`mlstack.scan.terraform_json` (checkov's ``terraform_json`` framework);
- ``kubernetes/*.yaml``: the stack's Kubernetes objects, rendered by
  :mod:`mlstack.manifests` exactly as ``mlstack render-k8s`` writes them;
- ``cloudformation/template.json``: the stack's pulumi-aws-native resources as a
  CloudFormation template (:mod:`mlstack.scan.cloudformation`), when it has any;
- ``dockerfile/Dockerfile``: a copy of ``serving/Dockerfile`` (skipped, and said so, only
  when the file does not exist).

Skipped checks come from one file, :data:`SKIPS_FILE`, each with its reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlstack.manifests import manifests, scannable, write_manifests
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT
from mlstack.scan.cloudformation import convert_native
from mlstack.scan.terraform_json import Conversion, convert_plan
from policy_pack.rules.instance_storage import has_instance_store
from policy_pack.type_tokens import (
    SAGEMAKER_ENDPOINT_CONFIGURATION,
)

SKIPS_FILE = Path(__file__).with_name("checkov_skips.yaml")
DOCKERFILE = PROJECT_ROOT / "serving" / "Dockerfile"
TOOLS_CHECKOV = PROJECT_ROOT / ".venv-tools" / "bin" / "checkov"
FRAMEWORKS = ("terraform_json", "cloudformation", "kubernetes", "dockerfile")
"""checkov frameworks, in report order."""


class ScanError(Exception):
    """checkov is missing or did not produce a report."""


@dataclass(frozen=True)
class Skip:
    """One skipped checkov check and why."""

    id: str
    reason: str
    stacks: tuple[str, ...] = ()
    """Stacks the skip applies to; empty means every stack."""

    def applies_to(self, stack: str) -> bool:
        return not self.stacks or stack in self.stacks


@dataclass(frozen=True)
class Failure:
    """One failed checkov check."""

    check_id: str
    check_name: str
    resource: str
    file: str


@dataclass
class FrameworkResult:
    """checkov's counts and failures for one framework."""

    framework: str
    passed: int = 0
    failed: list[Failure] = field(default_factory=list)
    skipped: int = 0
    parsing_errors: int = 0
    checks_by_resource: dict[str, int] = field(default_factory=dict)
    """checkov's resource id -> number of checks that ran on it (passed or failed)."""


@dataclass
class ScanReport:
    """The result of ``mlstack scan`` for one stack."""

    stack: str
    results: dict[str, FrameworkResult]
    conversion: Conversion
    skips: list[Skip]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(not r.failed and not r.parsing_errors for r in self.results.values())


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """The skip list; every entry must carry an id and a reason."""
    document = yaml.safe_load(path.read_text()) or {}
    skips = []
    for entry in document.get("skips") or []:
        check_id, reason = entry.get("id"), str(entry.get("reason") or "").strip()
        if not check_id or not reason:
            raise ScanError(f"{path}: every skip needs an id and a reason: {entry}")
        skips.append(Skip(str(check_id), reason, tuple(entry.get("stacks") or ())))
    return skips


CHECKOV_MISSING = (
    "checkov not found: mlstack scan needs it; run 'make tools' (installs checkov into "
    ".venv-tools, where the scan finds it) or put checkov on PATH"
)


def checkov_binary() -> str | None:
    """checkov on PATH, else the project's tools venv (``make tools``)."""
    found = shutil.which("checkov")
    if found:
        return found
    return str(TOOLS_CHECKOV) if TOOLS_CHECKOV.exists() else None


def prepare(plan: Plan, workdir: Path, dockerfile: Path = DOCKERFILE) -> tuple[Conversion, list]:
    """Write the scan inputs of ``plan`` under ``workdir``; returns the conversion and notes."""
    notes: list[str] = []
    conversion = convert_plan(plan)
    terraform = workdir / "terraform"
    terraform.mkdir(parents=True, exist_ok=True)
    (terraform / "main.tf.json").write_text(json.dumps(conversion.document, indent=2))
    template = convert_native(plan)
    if template["Resources"]:
        (workdir / "cloudformation").mkdir(exist_ok=True)
        (workdir / "cloudformation" / "template.json").write_text(json.dumps(template, indent=2))
    else:
        notes.append("cloudformation: the stack declares no pulumi-aws-native resources")
    objects = manifests(plan)
    if objects:
        write_manifests(scannable(objects), workdir / "kubernetes")
        notes += [
            f"kubernetes: Rollout {o['metadata']['name']} scanned as the Deployment it runs "
            "(checkov has no checks for Argo's kind; the pod template is the same)"
            for o in objects
            if o.get("kind") == "Rollout"
        ]
    else:
        notes.append("kubernetes: the stack declares no Kubernetes objects")
    if dockerfile.exists():
        (workdir / "dockerfile").mkdir(exist_ok=True)
        shutil.copy(dockerfile, workdir / "dockerfile" / "Dockerfile")
    else:
        notes.append(f"dockerfile: {dockerfile} does not exist yet, not scanned")
    return conversion, notes


def _parse(output: str) -> dict[str, FrameworkResult]:
    # checkov may print stray lines from failing checks before its report.
    start = min((i for i in (output.find("\n{"), output.find("\n[")) if i >= 0), default=-1)
    report_text = output if output.lstrip().startswith(("{", "[")) else output[start + 1 :]
    try:
        document: Any = json.loads(report_text)
    except json.JSONDecodeError as err:
        raise ScanError(f"checkov printed no JSON report: {output[:300]}") from err
    reports = document if isinstance(document, list) else [document]
    results = {name: FrameworkResult(name) for name in FRAMEWORKS}
    for report in reports:
        framework = report.get("check_type")
        if framework is None:
            continue  # checkov's empty report: no file of any framework
        summary = report.get("summary") or {}
        result = results.setdefault(framework, FrameworkResult(framework))
        result.passed = int(summary.get("passed", 0))
        result.skipped = int(summary.get("skipped", 0))
        result.parsing_errors = int(summary.get("parsing_errors", 0))
        checked = (report.get("results") or {}).get("passed_checks") or []
        checked += (report.get("results") or {}).get("failed_checks") or []
        for check in checked:
            resource = str(check.get("resource", ""))
            result.checks_by_resource[resource] = result.checks_by_resource.get(resource, 0) + 1
        result.failed = [
            Failure(
                check_id=c["check_id"],
                check_name=c.get("check_name", ""),
                resource=c.get("resource", ""),
                file=c.get("file_path", ""),
            )
            for c in (report.get("results") or {}).get("failed_checks") or []
        ]
    return results


def run_checkov(
    directory: Path, skip_ids: list[str], frameworks: tuple[str, ...] = FRAMEWORKS
) -> dict[str, FrameworkResult]:
    """Run checkov offline over ``directory`` and return its results per framework."""
    binary = checkov_binary()
    if binary is None:
        raise ScanError(CHECKOV_MISSING)
    command = [
        binary,
        "--directory",
        str(directory),
        "--framework",
        *frameworks,
        "--skip-download",
        "--output",
        "json",
        "--compact",
    ]
    if skip_ids:
        command += ["--skip-check", ",".join(sorted(set(skip_ids)))]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLORS": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode not in (0, 1):
        raise ScanError(f"checkov failed ({completed.returncode}): {completed.stderr[-500:]}")
    return _parse(completed.stdout)


VOLUME_KMS_CHECK = "CKV_AWS_98"


def _instance_store_configs(plan: Plan) -> set[str]:
    """Names of endpoint configurations whose every variant keeps its storage on
    hardware-encrypted instance store, where AWS refuses a volume KMS key."""
    names = set()
    for resource in plan.of_type(SAGEMAKER_ENDPOINT_CONFIGURATION):
        variants = resource.inputs.get("productionVariants") or []
        types = [str(v.get("instanceType", "")) for v in variants if isinstance(v, dict)]
        if types and all(has_instance_store(t) for t in types):
            names.add(resource.name)
    return names


def _exempt_instance_store(plan: Plan, result: FrameworkResult) -> list[str]:
    """Move CKV_AWS_98 failures of instance-store endpoint configurations out of the failures
    (checkov asks for a key AWS would refuse); returns a note per exempted resource."""
    exempt = _instance_store_configs(plan)
    kept, notes = [], []
    for failure in result.failed:
        name = failure.resource.rsplit(".", 1)[-1]
        if failure.check_id == VOLUME_KMS_CHECK and name in exempt:
            result.skipped += 1
            notes.append(
                f"terraform_json: {VOLUME_KMS_CHECK} not applicable to {name}: its instance "
                "type keeps ML storage on instance store, encrypted by the hardware; AWS "
                "refuses a volume KMS key there"
            )
        else:
            kept.append(failure)
    result.failed = kept
    return notes


def scan(plan: Plan, workdir: Path, dockerfile: Path = DOCKERFILE) -> ScanReport:
    """Prepare the inputs of one stack and scan them."""
    skips = [s for s in load_skips() if s.applies_to(plan.stack)]
    conversion, notes = prepare(plan, workdir, dockerfile)
    results = run_checkov(workdir, [s.id for s in skips])
    notes += _exempt_instance_store(plan, results["terraform_json"])
    return ScanReport(plan.stack, results, conversion, skips, notes)
