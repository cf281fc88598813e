"""Plan a stack as a git commit had it: a temporary worktree and a fresh interpreter.

The program at another commit is another version of the ``infra`` package than the one this
process imported, so each side is planned in a subprocess whose ``PYTHONPATH`` starts with
that side's project root: the plan then runs that commit's program, config schema, mocks
and policy rules. The subprocess uses only the harness API every commit has had
(``run_plan(stack, root)``, ``Plan.to_json()``), refuses to run when ``infra`` was imported
from anywhere else, and writes its document to a file (the program may print to stdout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlstack.offline.secrets import child_environment

GIT_TIMEOUT_SECONDS = 120
PLAN_TIMEOUT_SECONDS = 300

_PLAN_SCRIPT = r"""
import gc, json, sys
gc.disable()  # a one-shot process, as the mlstack command is (mlstack.cli.app.main)
from pathlib import Path

root, stack, out = Path(sys.argv[1]).resolve(), sys.argv[2], Path(sys.argv[3])
import infra
where = Path(infra.__file__).resolve()
if not where.is_relative_to((root / "infra").resolve()):
    sys.stderr.write(f"infra was imported from {where}, not from {root}\n")
    sys.exit(3)
from mlstack.offline.harness import PlanConfigError, PlanRuntimeError, run_plan
try:
    plan = run_plan(stack, root)
except (PlanConfigError, PlanRuntimeError) as err:
    sys.stderr.write(f"{err}\n")
    sys.exit(2)
try:
    from mlstack.checks import evaluate
except ImportError:
    evaluate = None
notes = []
if evaluate is not None:
    try:
        plan.policy = evaluate(plan)
    except Exception as err:
        notes.append(f"the policy pack failed, policy not compared: {type(err).__name__}: {err}")
doc = plan.to_json()
doc["notes"] = notes
doc.setdefault("config", dict(getattr(plan, "config", None) or {}))
doc["secretKeys"] = list(getattr(plan, "secret_keys", None) or [])
out.write_text(json.dumps(doc))
gc.freeze()  # exit without collecting the plan's heap (mlstack.cli.app.freeze_heap_at_exit)
"""


class RefPlanError(Exception):
    """A git or plan step failed; the message is short and names the ref or stack."""


@dataclass(frozen=True)
class Checkout:
    """A project root inside a git repository."""

    repo: Path
    """The repository's top-level directory."""
    project: Path
    """The project root (holding Pulumi.yaml) relative to ``repo``."""


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise RefPlanError("git is not installed (mlstack diff reads the base from git)") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise RefPlanError(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout.strip()


def locate(project_dir: Path) -> Checkout:
    """The repository holding ``project_dir``; fails when it is not in a git work tree."""
    try:
        top = _git(project_dir, "rev-parse", "--show-toplevel")
    except RefPlanError:
        raise RefPlanError(
            f"{project_dir} is not inside a git repository: mlstack diff needs the base commit"
        ) from None
    repo = Path(top).resolve()
    return Checkout(repo=repo, project=project_dir.resolve().relative_to(repo))


def resolve_ref(repo: Path, ref: str) -> str:
    """The commit SHA ``ref`` names; fails with the ref in the message."""
    if ref.startswith("-"):
        raise RefPlanError(f"'{ref}' is not a git ref")
    try:
        return _git(
            repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        )
    except RefPlanError:
        raise RefPlanError(f"unknown git ref '{ref}' in {repo}") from None


@contextmanager
def worktree(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of ``commit`` in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mlstack-diff-") as tmp:
        path = Path(tmp) / "base"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(repo), "worktree", "remove", "--force", str(path)],
                capture_output=True,
                timeout=GIT_TIMEOUT_SECONDS,
                check=False,
            )
            subprocess.run(
                ["git", "-C", str(repo), "worktree", "prune"],
                capture_output=True,
                timeout=GIT_TIMEOUT_SECONDS,
                check=False,
            )


def plan_document(stack: str, project_root: Path, label: str) -> dict[str, Any]:
    """The plan document of ``stack`` planned by the program found under ``project_root``.

    ``label`` names the side in error messages (a ref, or "working tree").
    """
    root = project_root.resolve()
    # Both sides of a diff fingerprint secrets under one key, or they could not be compared.
    env = child_environment(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="mlstack-plan-") as tmp:
        out = Path(tmp) / "plan.json"
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PLAN_SCRIPT, str(root), stack, str(out)],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=PLAN_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RefPlanError(
                f"{label}: planning '{stack}' took over {PLAN_TIMEOUT_SECONDS} s"
            ) from None
        if done.returncode != 0 or not out.exists():
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            detail = "\n  ".join(lines[-3:]) if lines else f"exit code {done.returncode}"
            raise RefPlanError(f"{label}: cannot plan stack '{stack}':\n  {detail}")
        return json.loads(out.read_text())
