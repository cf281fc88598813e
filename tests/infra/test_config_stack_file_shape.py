"""Mistakes in the shape of a stack file are named, with how to fix them."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlstack.offline.harness import PlanConfigError, run_plan
from mlstack.offline.stack_files import StackFileError, load_project, load_stack_doc
from mlstack.project import PROJECT_ROOT
from tests.conftest import make_project_copy
from tests.infra.config_helpers import rejection


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project_copy(tmp_path_factory.mktemp("shape") / "project")


def _load(project: Path, text: str) -> str:
    (project / "stacks" / "Pulumi.scratch.yaml").write_text(text)
    with pytest.raises(StackFileError) as info:
        load_stack_doc(load_project(project), "scratch")
    return str(info.value)


def test_rejects_a_key_given_twice(project: Path) -> None:
    message = _load(
        project, "config:\n  mlstack:owner: a\n  aws:region: us-east-1\n  mlstack:owner: b\n"
    )
    assert "line 4: 'mlstack:owner' is given twice" in message


def test_rejects_a_nested_key_given_twice(project: Path) -> None:
    text = "config:\n  mlstack:rollout:\n    bakeSeconds: 600\n    bakeSeconds: 60\n"
    assert "'bakeSeconds' is given twice" in _load(project, text)


def test_rejects_an_empty_file(project: Path) -> None:
    assert "the file is empty" in _load(project, "# nothing yet\n")


def test_rejects_a_misspelt_top_level_key(project: Path) -> None:
    message = _load(project, "confg:\n  aws:region: us-east-1\n")
    assert "confg: unknown top-level key" in message
    assert "did you mean 'config'?" in message


def test_a_key_given_twice_fails_the_plan_with_exit_code_two_message(project: Path) -> None:
    path = project / "stacks" / "Pulumi.staging.yaml"
    original = path.read_text()
    path.write_text(original + "  mlstack:owner: someone-else\n")
    try:
        with pytest.raises(PlanConfigError, match="is given twice"):
            run_plan("staging", project)
    finally:
        path.write_text(original)


def test_rejects_an_unknown_namespace_with_a_hint() -> None:
    message = rejection(lambda doc: doc.update({"mlstak:owner": "ml-platform"}))
    assert "mlstak:owner: unknown namespace" in message
    assert "did you mean 'mlstack:owner'?" in message


def test_rejects_a_dotted_flat_key_and_says_how_to_nest_it() -> None:
    message = rejection(lambda doc: doc.update({"mlstack:sagemaker.instanceCount": 3}))
    assert "mlstack:sagemaker.instanceCount: unknown key" in message
    assert "nest it: mlstack:sagemaker:" in message


def test_rejects_a_section_given_as_a_list() -> None:
    message = rejection(lambda doc: doc.update({"mlstack:rollout": [{"strategy": "canary"}]}))
    assert "mlstack:rollout = [" in message
    assert "not a list" in message
    assert "mlstack:rollout.mlstack:rollout" not in message


def test_shipped_stack_files_load() -> None:
    assert load_stack_doc(load_project(PROJECT_ROOT), "production")["aws:region"] == "us-east-1"
