"""Rewriting `mlstack:model.packageVersion` in place (no AWS involved)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mlstack.models.stack_file import (
    StackEditError,
    promoted_text,
    read_stack_model,
    write_atomically,
)
from tests.conftest import make_project_copy

PATH = Path("stacks/Pulumi.test.yaml")

BLOCK = """\
# Test stack.
config:
  aws:region: eu-west-1   # trailing comment stays
  mlstack:model:
    # Version to serve.
    packageVersion: 12 # and this one
    packageGroupName: churn
"""


def test_only_the_digits_of_the_version_change() -> None:
    expected = BLOCK.replace("packageVersion: 12 #", "packageVersion: 7 #")
    assert promoted_text(BLOCK, PATH, 7) == expected


def test_flow_style_mapping_is_rewritten_in_place() -> None:
    text = "config:\n  mlstack:model: {packageGroupName: churn, packageVersion: 2}\n"
    expected = text.replace("packageVersion: 2}", "packageVersion: 10}")
    assert promoted_text(text, PATH, 10) == expected


def test_crlf_line_endings_are_kept() -> None:
    text = BLOCK.replace("\n", "\r\n")
    assert promoted_text(text, PATH, 7) == text.replace("packageVersion: 12", "packageVersion: 7")


def test_rejects_a_stack_without_package_version() -> None:
    text = "config:\n  mlstack:model:\n    imageUri: x\n"
    with pytest.raises(StackEditError, match="packageVersion is not set"):
        promoted_text(text, PATH, 7)


def test_rejects_a_quoted_version() -> None:
    text = 'config:\n  mlstack:model:\n    packageVersion: "3"\n'
    with pytest.raises(StackEditError, match="must be an integer"):
        promoted_text(text, PATH, 7)


def test_atomic_write_keeps_permissions(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomically(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.x.yaml"]


def test_reads_group_version_and_region_of_a_shipped_stack(tmp_path: Path) -> None:
    project = make_project_copy(tmp_path / "project")
    model = read_stack_model(project, "production")
    assert (model.group, model.region) == ("churn-classifier", "us-east-1")
    assert isinstance(model.version, int)
