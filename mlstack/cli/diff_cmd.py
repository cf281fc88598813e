"""``mlstack diff``: what a pull request changes in a stack, offline, as Markdown or JSON."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from mlstack.cli.errors import fail
from mlstack.cli.plan_cmd import ProjectDir

if TYPE_CHECKING:
    from mlstack.diff import PlanDiff

HEAD_LABEL = "working tree"


def plan_document(stack: str, project_root: Path, label: str) -> dict[str, Any]:
    """:func:`mlstack.offline.at_ref.plan_document`, imported on the first diff."""
    from mlstack.offline.at_ref import plan_document as plan_at

    return plan_at(stack, project_root, label)


def _stack_exists(project_root: Path, stack: str) -> bool:
    from mlstack.offline.stack_files import StackFileError, load_project

    try:
        return load_project(project_root).stack_file(stack).exists()
    except StackFileError:
        return False


def diff_against_ref(stack: str, ref: str, project_dir: Path) -> PlanDiff:
    """The offline plan of ``stack`` at git ``ref`` against the working tree.

    A stack that does not exist at ``ref`` diffs against an empty plan.
    Raises :class:`RefPlanError` with a short message.
    """
    from mlstack.diff import diff_plans
    from mlstack.offline.at_ref import RefPlanError, locate, resolve_ref, worktree

    if not _stack_exists(project_dir, stack):
        raise RefPlanError(f"no stack '{stack}' in {project_dir}")
    checkout = locate(project_dir)
    commit = resolve_ref(checkout.repo, ref)
    base_label = f"{ref} ({commit[:12]})"
    notes: list[str] = []
    base: dict[str, Any] = {"resources": [], "policy": []}
    with worktree(checkout.repo, commit) as tree, ThreadPoolExecutor(max_workers=2) as pool:
        # Two interpreters planning side by side: each waits on its own subprocess.
        head_job = pool.submit(plan_document, stack, project_dir, HEAD_LABEL)
        base_root = tree / checkout.project
        if _stack_exists(base_root, stack):
            base = pool.submit(plan_document, stack, base_root, ref).result()
        else:
            notes.append(f"stack '{stack}' does not exist at {ref}: everything is new")
        head = head_job.result()
    notes += [f"{base_label}: {n}" for n in base.get("notes", [])]
    notes += [f"{HEAD_LABEL}: {n}" for n in head.get("notes", [])]
    return diff_plans(base, head, base_label, HEAD_LABEL, notes)


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff(
        stack: Annotated[str, typer.Argument(help="Stack to diff: staging, production.")],
        base: Annotated[
            str, typer.Option("--base", help="Git ref to diff against, e.g. origin/main.")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Show how the working tree changes a stack's offline plan against git ref BASE.

        Markdown (for pull request comments) by default; secrets are never shown.
        Exit codes: 0 diff printed, 2 bad ref, stack or config.
        """
        from mlstack.diff import render_markdown
        from mlstack.offline.at_ref import RefPlanError

        try:
            result = diff_against_ref(stack, base, project_dir)
        except RefPlanError as err:
            fail(str(err))
        if as_json:
            payload = {"stack": stack, **result.to_json()}
            sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            sys.stdout.write(render_markdown(result, f"mlstack diff: {stack}"))
