"""serving/Dockerfile: linted by hadolint and checkov, and checked for what the image
promises (no Docker engine here, so the entrypoint itself is exercised by the server
tests, which run exactly ENTRYPOINT + CMD)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.serving.helpers import DOCKERFILE, REPO, entrypoint_argv

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

SERVING = REPO / "serving"
INSTRUCTION = re.compile(r"^([A-Z]+)\s+(.*)$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in joined.splitlines():
        match = INSTRUCTION.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            found.append((match.group(1), match.group(2)))
    return found


def tool(name: str) -> str:
    """A linter from the project's virtualenvs or PATH; missing tools fail the test."""
    for candidate in (Path(sys.executable).parent / name, REPO / ".venv-tools" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (the Makefile installs it into .venv-tools)")
    return found


def test_hadolint_passes() -> None:
    result = subprocess.run([tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_offline() -> None:
    result = subprocess.run(
        [tool("checkov"), "--file", str(DOCKERFILE), "--framework", "dockerfile",
         "--skip-download", "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "LOG_LEVEL": "ERROR"},
    )  # fmt: skip
    report = json.loads(result.stdout)
    failed = report.get("results", {}).get("failed_checks", [])
    assert not failed, [check["check_id"] for check in failed]
    assert report["summary"]["passed"] > 0


def test_multi_stage_on_one_base_pinned_by_digest() -> None:
    bases = [args.split()[0] for name, args in instructions() if name == "FROM"]
    assert len(bases) >= 2
    assert len(set(bases)) == 1, bases
    assert re.fullmatch(r"python:3\.\d+-slim-\w+@sha256:[0-9a-f]{64}", bases[0]), bases[0]


def test_runs_as_a_non_root_user_with_uid_of_at_least_10000_by_default() -> None:
    steps = instructions()
    final_stage = steps[max(i for i, (name, _) in enumerate(steps) if name == "FROM") :]
    arguments = dict(
        args.split("=", 1) for name, args in final_stage if name == "ARG" and "=" in args
    )
    (user,) = [args for name, args in final_stage if name == "USER"]
    user = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], user)
    uid, _, gid = user.partition(":")
    assert int(uid) >= 10000 and int(gid or uid) >= 10000


def test_healthcheck_and_exec_form_entrypoint_taking_serve() -> None:
    steps = dict(instructions())
    assert "serving" in steps["HEALTHCHECK"] and "healthcheck" in steps["HEALTHCHECK"]
    assert json.loads(steps["ENTRYPOINT"]) == ["python", "-m", "serving"]
    assert json.loads(steps["CMD"]) == ["serve"]
    assert entrypoint_argv()[1:] == ["-m", "serving", "serve"]


def test_dockerignore_keeps_caches_and_build_files_out() -> None:
    ignored = (SERVING / ".dockerignore").read_text().split()
    for pattern in ("**/__pycache__", "Dockerfile", ".dockerignore"):
        assert pattern in ignored


def test_image_pins_stay_inside_the_project_ranges() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    ranges = {
        Requirement(r).name.lower(): Requirement(r)
        for r in extras["serving"] + extras["onnx"] + extras["explain"]
    }
    for name in ("requirements.txt", "requirements-onnx.txt", "requirements-shap.txt"):
        for line in (SERVING / name).read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            pin = Requirement(line)
            (version,) = [spec.version for spec in pin.specifier]
            assert str(pin.specifier).startswith("=="), line
            if pin.name.lower() in ranges:
                assert ranges[pin.name.lower()].specifier.contains(version), line


def test_image_needs_nothing_outside_the_serving_package() -> None:
    for path in SERVING.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import)\s+(pulumi|infra)\b", text, re.M), path
