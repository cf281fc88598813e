"""Set-up repairs itself: a broken or foreign .venv is rebuilt, an unsupported Python is named
with the fix, and the supported range is the one pyproject.toml declares."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import tomllib

from mlstack.project import PROJECT_ROOT


def _project_with_broken_venv(root: Path) -> Path:
    shutil.copy(PROJECT_ROOT / "Makefile", root / "Makefile")
    (root / "pyproject.toml").write_text("")
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n")  # what a half-made venv of a removed Python does
    python.chmod(0o755)
    (root / ".venv" / ".installed").touch()
    return root


def test_a_broken_venv_is_removed_and_rebuilt(tmp_path: Path) -> None:
    root = _project_with_broken_venv(tmp_path)
    done = subprocess.run(["make", "-n", "plan"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "unusable or of an unsupported Python: rebuilding it" in done.stdout
    assert not (root / ".venv").exists()
    assert "-m venv .venv" in done.stdout


def test_an_unsupported_python_is_named_with_the_fix(tmp_path: Path) -> None:
    root = _project_with_broken_venv(tmp_path)
    done = subprocess.run(
        ["make", "plan", "PYTHON=/bin/false"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "mlstack needs Python 3.10 to 3.13" in done.stderr
    assert "make PYTHON=" in done.stderr


def test_the_range_is_pyprojects_everywhere_it_is_stated() -> None:
    requires = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
        "requires-python"
    ]
    low, high = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", requires).groups()
    stated = f"Python 3.{low} to 3.{int(high) - 1}"
    assert f"(3, {low}) <= v < (3, {high})" in (PROJECT_ROOT / "Makefile").read_text()
    assert stated in (PROJECT_ROOT / "README.md").read_text()


def test_the_example_model_directory_is_ignored() -> None:
    done = subprocess.run(
        ["git", "check-ignore", "model/model.joblib"], cwd=PROJECT_ROOT, capture_output=True
    )
    assert done.returncode == 0
