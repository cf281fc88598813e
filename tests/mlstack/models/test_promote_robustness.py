"""`mlstack model promote` on stack files it must not rewrite, and two promotions at once:
a short message and exit 2, never a traceback, never a symbolic link replaced by a file,
never two promotions reporting success."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_USAGE
from mlstack.models.stack_file import StackChangedError, replace_if_unchanged
from tests.mlstack.models.test_model_promote import STACK, promote, stack_file, use_group

runner = CliRunner()


def replace_section(project: Path, key: str, value: str) -> bytes:
    """Give ``key`` an inline ``value`` and drop its nested lines; return the file's bytes."""
    path = stack_file(project)
    lines = path.read_text().splitlines(keepends=True)
    start = lines.index(f"  {key}:\n")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    lines[start:end] = [f"  {key}: {value}\n"]
    path.write_text("".join(lines))
    return path.read_bytes()


def assert_refused(result: Any, *needles: str) -> None:
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for needle in needles:
        assert needle in result.stderr


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("mlstack:model", "[3, 5]", "mlstack:model = [3, 5]"),
        ("mlstack:model", "churn-classifier", 'mlstack:model = "churn-classifier"'),
        ("mlstack:registry", "[churn-classifier]", 'mlstack:registry = ["churn-classifier"]'),
    ],
    ids=["model-list", "model-string", "registry-list"],
)
def test_promote_refuses_a_section_that_is_not_a_mapping(
    project: Path, aws_env: str, key: str, value: str, needle: str
) -> None:
    before = replace_section(project, key, value)
    result = promote(project, 5)
    assert_refused(result, "stacks/Pulumi.production.yaml", needle)
    assert stack_file(project).read_bytes() == before


def test_promote_refuses_a_stack_file_that_is_not_utf8(project: Path, aws_env: str) -> None:
    path = stack_file(project)
    path.write_bytes(path.read_bytes().replace(b"# Production", b"# Produ\xe9tion", 1))
    before = path.read_bytes()
    result = promote(project, 5)
    assert_refused(result, "Pulumi.production.yaml: line 2: byte 0xe9 is not UTF-8")
    assert path.read_bytes() == before


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_promote_leaves_a_symlinked_stack_file_alone(
    project: Path, approved_v5: str, tmp_path: Path, where: str
) -> None:
    use_group(project, approved_v5)
    link = stack_file(project)
    target = (project / "stacks" if where == "inside" else tmp_path) / "real-production.yaml"
    os.replace(link, target)
    link.symlink_to(target)
    before = target.read_bytes()
    result = promote(project, 5)
    assert_refused(result, "is a symbolic link", "edit the file it points to")
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert target.read_bytes() == before


def test_a_stale_rewrite_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config: {a: 2}\n")
    with pytest.raises(StackChangedError, match="changed since it was read"):
        replace_if_unchanged(path, "config: {a: 1}\n", "config: {a: 3}\n")
    assert path.read_text() == "config: {a: 2}\n"


def test_two_concurrent_promotions_do_not_both_succeed(project: Path, approved_v5: str) -> None:
    use_group(project, approved_v5)
    command = [
        str(Path(sys.executable).parent / "mlstack"),
        "model",
        "promote",
        STACK,
        "--version",
        "5",
        "--project-dir",
        str(project),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    promoted = [out for code, out, err in outcomes if code == 0 and "promoted" in err]
    assert len(promoted) == 1, outcomes
    for code, _, err in outcomes:
        assert "Traceback" not in err
        assert code == 0 or (code == EXIT_USAGE and "changed since it was read" in err), err
    text = stack_file(project).read_text()
    assert text.count("packageVersion: 5") == 1
    assert text.count("modelVersion: 5") == 1


@pytest.mark.parametrize("command", ["approve", "register"])
def test_model_commands_without_an_aws_region_are_usage_errors(
    aws_env: str, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    args = {
        "approve": ["model", "approve", "churn", "1"],
        "register": [
            "model",
            "register",
            "--stack",
            STACK,
            "--group",
            "churn",
            "--image",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/r@sha256:" + "a" * 64,
            "--artifact",
            "s3://bucket/model.tar.gz",
            "--repository-url",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/r",
            "--artifacts-bucket",
            "bucket",
        ],
    }[command]
    result = runner.invoke(app, args)
    assert_refused(result, "no AWS region", "AWS_DEFAULT_REGION")


def test_a_dry_run_reads_a_symlinked_stack_file_and_writes_nothing(
    project: Path, approved_v5: str, tmp_path: Path
) -> None:
    use_group(project, approved_v5)
    link = stack_file(project)
    target = tmp_path / "real-production.yaml"
    os.replace(link, target)
    link.symlink_to(target)
    before = target.read_bytes()
    result = promote(project, 5, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "+    packageVersion: 5" in result.stdout
    assert link.is_symlink() and target.read_bytes() == before
