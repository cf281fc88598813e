"""Rewriting `mlstack:model.packageVersion` in place (no AWS involved)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
import yaml

from mlstack.models.stack_file import (
    Edit,
    StackEditError,
    apply_edits,
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


CONFIG = """\
config:
  mlstack:kubernetes:
    # Artifact.
    modelArtifact: "models/v3/model.tar.gz"  # quoted stays quoted
    imageDigest: sha256:aaa
  # Next section.
  mlstack:monitoring:
    drift: {baselineStatisticsUri: b/v3/s.json}
"""


def test_edits_keep_quoting_and_add_a_missing_key_at_the_end_of_its_block() -> None:
    edits = [
        Edit(("mlstack:kubernetes", "modelArtifact"), "s3://b/models/v5/model.tar.gz"),
        Edit(("mlstack:kubernetes", "modelVersion"), 5),
        Edit(("mlstack:monitoring", "drift", "baselineStatisticsUri"), "b/v5/s.json"),
    ]
    assert apply_edits(CONFIG, PATH, edits) == (
        CONFIG.replace('"models/v3/model.tar.gz"', '"s3://b/models/v5/model.tar.gz"')
        .replace("sha256:aaa\n", "sha256:aaa\n    modelVersion: 5\n")
        .replace("b/v3/s.json", "b/v5/s.json")
    )


def test_an_added_key_keeps_crlf_line_endings() -> None:
    text = CONFIG.replace("\n", "\r\n")
    new = apply_edits(text, PATH, [Edit(("mlstack:kubernetes", "modelVersion"), 5)])
    assert "sha256:aaa\r\n    modelVersion: 5\r\n" in new
    assert "\n" not in new.replace("\r\n", "")


def test_a_key_missing_from_an_inline_mapping_is_left_to_the_user() -> None:
    edit = Edit(("mlstack:monitoring", "drift", "baselineConstraintsUri"), "b/v5/c.json")
    with pytest.raises(
        StackEditError, match=re.escape("add 'baselineConstraintsUri: b/v5/c.json' by hand")
    ):
        apply_edits(CONFIG, PATH, [edit])


def test_a_section_that_is_not_a_mapping_is_refused() -> None:
    text = "config:\n  mlstack:kubernetes: [a]\n"
    with pytest.raises(StackEditError, match="mlstack:kubernetes is not a mapping"):
        apply_edits(text, PATH, [Edit(("mlstack:kubernetes", "modelVersion"), 5)])


def test_a_value_that_would_read_back_differently_is_quoted() -> None:
    text = "config:\n  mlstack:x:\n    a: b\n"
    for value in ("yes", "3", "a: b", "x # y", "ml-plätform"):
        new = apply_edits(text, PATH, [Edit(("mlstack:x", "a"), value)])
        assert yaml.safe_load(new)["config"]["mlstack:x"]["a"] == value


def test_write_atomically_refuses_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    target.write_text("old\n")
    link = tmp_path / "Pulumi.x.yaml"
    link.symlink_to(target)
    with pytest.raises(StackEditError, match="is a symbolic link"):
        write_atomically(link, "new\n")
    assert link.is_symlink() and target.read_text() == "old\n"
