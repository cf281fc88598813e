"""The CrossGuard pack starts and judges both stacks in a venv built only from its own
requirements.txt, as the Pulumi CLI builds it (no pydantic, no kit, no dev tools)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlstack.checks import policy_resources, run_rules, stack_enforcement
from mlstack.offline.plan import Plan
from mlstack.project import PROJECT_ROOT
from policy_pack.settings import stack_context
from tests.conftest import SHIPPED_STACKS

PACK = PROJECT_ROOT / "policy_pack"
DRIVER = Path(__file__).with_name("pack_driver.py")
VENV = PROJECT_ROOT / ".venv-policy-pack"


@pytest.fixture(scope="session")
def pack_python() -> Path:
    """A venv with exactly policy_pack/requirements.txt, rebuilt when that file changes."""
    requirements = (PACK / "requirements.txt").read_bytes()
    stamp = VENV / ".requirements-sha256"
    digest = hashlib.sha256(requirements).hexdigest()
    python = VENV / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == digest and python.exists()):
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(PACK / "requirements.txt")],
            check=True,
        )
        stamp.write_text(digest)
    return python


def test_the_pack_venv_has_nothing_but_the_pack_requirements(pack_python: Path) -> None:
    probe = "import importlib.util as u; print([m for m in ('pydantic', 'infra', 'mlstack', "
    probe += "'boto3', 'typer') if u.find_spec(m)])"
    done = subprocess.run(
        [str(pack_python), "-c", probe], capture_output=True, text=True, check=True, cwd="/"
    )
    assert done.stdout.strip() == "[]"


def test_the_pack_starts_in_its_own_venv(pack_python: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [str(pack_python), str(PACK / "__main__.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "PULUMI_STACK": "production"},
        cwd=PACK,
    )
    try:
        line = process.stdout.readline().decode().strip() if process.stdout else ""
        assert line.isdigit(), (process.stderr.read().decode() if process.stderr else "")[-2000:]
    finally:
        process.kill()
        process.wait()


def _judge_in_pack_venv(python: Path, plan: Plan, tmp_path: Path) -> list[dict]:
    document = {
        "stack": plan.stack,
        "tier": plan.tier,
        "config": plan.config,
        "resources": [
            {"urn": r.urn, "type": r.type, "name": r.name, "inputs": r.inputs}
            for r in policy_resources(plan)
        ],
    }
    path = tmp_path / f"{plan.stack}.json"
    path.write_text(json.dumps(document))
    done = subprocess.run(
        [str(python), str(DRIVER), str(path)], capture_output=True, text=True, cwd="/"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _offline(plan: Plan) -> list[dict]:
    context = stack_context(plan.stack, plan.tier, plan.config)
    results = run_rules(policy_resources(plan), context, stack_enforcement(plan))
    return [{"policy": r.policy, "urn": r.urn, "message": r.message} for r in results]


def _key(result: dict) -> tuple:
    return (result["policy"], result["urn"] or "", result["message"])


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_pack_judges_each_stack_as_the_offline_check_does(
    pack_python: Path, shipped_plans: dict[str, Plan], stack: str, tmp_path: Path
) -> None:
    plan = shipped_plans[stack]
    in_pack = _judge_in_pack_venv(pack_python, plan, tmp_path)
    assert sorted(in_pack, key=_key) == sorted(_offline(plan), key=_key)


def test_the_pack_in_its_venv_reports_a_violation(
    pack_python: Path, shipped_plans: dict[str, Plan], tmp_path: Path
) -> None:
    plan = shipped_plans["production"]
    keys = [r for r in plan.resources if r.type == "aws:kms/key:Key"]
    broken = Plan(
        plan.project,
        plan.stack,
        [
            *[r for r in plan.resources if r not in keys],
            *[
                type(k)(
                    k.urn,
                    k.type,
                    k.name,
                    k.parent,
                    k.custom,
                    k.provider,
                    {**k.inputs, "enableKeyRotation": False},
                )
                for k in keys
            ],
        ],
        plan.outputs,
        tier=plan.tier,
        config=plan.config,
    )
    reported = _judge_in_pack_venv(pack_python, broken, tmp_path)
    assert {r["policy"] for r in reported} >= {"kms-key-rotation"}
