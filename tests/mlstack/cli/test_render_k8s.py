"""``mlstack render-k8s``: manifests written per object, and checkov passes on them offline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.scan.checkov import checkov_binary, load_skips
from tests.infra.eks_plans import as_deployment

runner = CliRunner()


def _checkov() -> str:
    found = checkov_binary()
    if found is None:
        pytest.fail("checkov is not installed: run `make tools` (it lives in .venv-tools)")
    return found


def _kubernetes_skips() -> list[str]:
    return [s.id for s in load_skips() if "_K8S_" in s.id]


def _render(stack: str, directory: Path) -> list[Path]:
    result = runner.invoke(app, ["render-k8s", stack, str(directory)])
    assert result.exit_code == 0, result.output
    return sorted(directory.glob("*.yaml"))


def _scan(directory: Path) -> dict:
    command = [_checkov(), "--skip-download", "-d", str(directory), "--framework", "kubernetes"]
    command += ["-o", "json", "--compact"]
    if _kubernetes_skips():
        command += ["--skip-check", ",".join(_kubernetes_skips())]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="module")
def production_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("render") / "production"
    _render("production", directory)
    return directory


def test_writes_one_file_per_object_named_by_kind_and_name(production_dir: Path) -> None:
    names = {p.name for p in production_dir.glob("*.yaml")}
    assert {
        "rollout-model-server.yaml",
        "analysistemplate-model-server-analysis.yaml",
        "horizontalpodautoscaler-model-server.yaml",
        "poddisruptionbudget-model-server.yaml",
        "networkpolicy-model-server.yaml",
        "service-model-server.yaml",
        "service-model-server-canary.yaml",
    } <= names
    for path in production_dir.glob("*.yaml"):
        obj = yaml.safe_load(path.read_text())
        assert path.name == f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def test_stack_without_eks_writes_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render-k8s", "staging", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert not (tmp_path / "out").exists()


def test_unknown_stack_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render-k8s", "nosuchstack", str(tmp_path)])
    assert result.exit_code == 2


def test_checkov_passes_on_the_rendered_production_manifests(production_dir: Path) -> None:
    results = _scan(production_dir)["results"]
    assert results["failed_checks"] == [], [c["check_id"] for c in results["failed_checks"]]
    skipped = {c["check_id"] for c in results.get("skipped_checks", [])}
    assert skipped <= set(_kubernetes_skips())


def test_checkov_passes_on_the_rollout_pods(production_dir: Path, tmp_path: Path) -> None:
    """checkov does not know Argo's Rollout, so its pod template is scanned as a Deployment:
    the container checks (non-root, capabilities, probes, limits, digests) really run."""
    for path in production_dir.glob("*.yaml"):
        obj = yaml.safe_load(path.read_text())
        if obj["kind"] == "Rollout":
            obj = as_deployment(obj)
        (tmp_path / path.name).write_text(yaml.safe_dump(obj))
    results = _scan(tmp_path)["results"]
    assert results["failed_checks"] == [], [c["check_id"] for c in results["failed_checks"]]
    evaluated = {c["check_id"] for c in results["passed_checks"]}
    for check in ("CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_28", "CKV_K8S_40", "CKV_K8S_43"):
        assert check in evaluated
