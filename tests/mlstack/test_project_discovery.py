"""`mlstack` works on the project it stands in (found upward, as pulumi finds Pulumi.yaml),
not on the checkout it was installed from, and says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mlstack.project import INSTALLED_ROOT, choose_project, find_project
from tests.conftest import edit_stack_file, make_project_copy

MLSTACK = str(Path(sys.executable).parent / "mlstack")


def _owners(plan: dict) -> set[str]:
    return {
        r["inputs"]["tags"]["owner"]
        for r in plan["resources"]
        if "owner" in (r["inputs"].get("tags") or {})
    }


def test_another_checkouts_mlstack_plans_the_copy_it_stands_in(tmp_path: Path) -> None:
    copy = make_project_copy(tmp_path / "second-clone")
    edit_stack_file(copy, "staging", lambda c: c.update({"mlstack:owner": "second-clone-team"}))
    (copy / "stacks" / "deeper").mkdir()
    done = subprocess.run(
        [MLSTACK, "plan", "staging", "--json"],
        cwd=copy / "stacks" / "deeper",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert _owners(json.loads(done.stdout)) == {"second-clone-team"}
    assert f"project: {copy}" in done.stderr


def test_without_a_project_above_the_installed_checkout_is_used_and_named(tmp_path: Path) -> None:
    project, note = choose_project(None, cwd=tmp_path)
    assert project == INSTALLED_ROOT
    assert note and "installed checkout" in note


def test_an_explicit_project_dir_wins(tmp_path: Path) -> None:
    assert choose_project(tmp_path, cwd=INSTALLED_ROOT) == (tmp_path, None)
    assert find_project(INSTALLED_ROOT / "infra" / "components") == INSTALLED_ROOT
