"""The GitHub workflows: valid against GitHub's schema, clean under zizmor, least privilege,
pinned actions, and the delivery flow the kit promises (preview, offline diff, gated deploy)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlstack.project import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def on(doc: dict[Any, Any]) -> dict[str, Any]:
    return doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true


def steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def test_expected_workflows_exist() -> None:
    assert {p.name for p in FILES} >= {
        "test.yml",
        "preview.yml",
        "offline-diff.yml",
        "offline-diff-comment.yml",
        "deploy.yml",
    }


def test_workflows_match_githubs_schema() -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
        + [str(p) for p in FILES],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "auditor", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings" in done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version(path: Path) -> None:
    for line in path.read_text().splitlines():
        if "uses:" not in line:
            continue
        ref = line.split("uses:", 1)[1].split("#")[0].strip()
        assert PINNED.match(ref), line
        assert re.search(r"# v\d+(\.\d+)*$", line), f"no version comment: {line}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_permissions_start_empty_and_jobs_ask_for_theirs(path: Path) -> None:
    doc = load(path.name)
    assert doc["permissions"] == {}
    for job in doc["jobs"].values():
        assert "write-all" not in str(job["permissions"])
        assert job["permissions"].get("contents", "read") == "read"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    for step in steps(load(path.name)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_preview_runs_for_same_repository_pull_requests_per_stack() -> None:
    doc = load("preview.yml")
    job = doc["jobs"]["preview"]
    assert set(on(doc)) == {"pull_request"}
    assert "head.repo.full_name == github.repository" in job["if"]
    assert job["strategy"]["matrix"]["stack"] == ["staging", "production"]
    assert "matrix.stack" in job["concurrency"]["group"]
    assert job["permissions"]["id-token"] == "write"
    pulumi = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy_pack"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["edit-pr-comment"] is True
    assert any(
        s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        and "role-to-assume" in s["with"]
        for s in job["steps"]
    )


def test_offline_diff_runs_pull_request_code_without_secrets() -> None:
    doc = load("offline-diff.yml")
    assert set(on(doc)) == {"pull_request"}
    text = (WORKFLOWS / "offline-diff.yml").read_text()
    assert "secrets." not in text
    assert "mlstack diff" in text
    assert doc["jobs"]["diff"]["permissions"] == {"contents": "read"}


def test_offline_diff_comment_runs_no_pull_request_code() -> None:
    doc = load("offline-diff-comment.yml")
    assert on(doc)["workflow_run"]["workflows"] == ["offline-diff"]
    for step in steps(doc):
        assert not step.get("uses", "").startswith("actions/checkout@")
        assert "${{" not in step.get("run", "")


def test_deploy_goes_staging_smoke_then_gated_production() -> None:
    doc = load("deploy.yml")
    assert on(doc)["push"]["branches"] == ["main"]
    staging, production = doc["jobs"]["staging"], doc["jobs"]["production"]
    assert production["needs"] == "staging"
    assert (staging["environment"], production["environment"]) == ("staging", "production")
    for stack, job in (("staging", staging), ("production", production)):
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        runs = [s.get("run", "") for s in job["steps"]]
        assert f".venv/bin/mlstack smoke {stack}" in runs
        up = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
        assert up["with"]["command"] == "up"
        assert up["with"]["stack-name"].endswith(f"/{stack}")
