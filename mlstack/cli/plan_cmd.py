"""``mlstack plan``: the offline plan of one stack or all of them.

The harness, the program's SDKs, the policy pack and the renderers are imported when a
command runs, not when the ``mlstack`` command starts (``mlstack --help`` loads none of them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from mlstack.cli.errors import EXIT_OK, EXIT_POLICY, fail
from mlstack.project import choose_project

if TYPE_CHECKING:
    from rich.console import Console

    from mlstack.offline.plan import Plan

WIDE_CONSOLE_COLUMNS = 240
"""Width of the readable output when stdout is not a terminal (CI logs, pipes): tables
widen instead of cutting cells."""


def _project(given: Path | None) -> Path:
    project, note = choose_project(given)
    if note:
        sys.stderr.write(f"{note}\n")
    return project


ProjectDir = Annotated[
    Path,
    typer.Option(
        "--project-dir",
        help="Directory holding Pulumi.yaml (default: found from the current directory "
        "upward, as pulumi finds it; else the installed checkout).",
        file_okay=False,
        exists=True,
        callback=_project,
    ),
]


def run_plan(stack: str, project_dir: Path) -> Plan:
    """:func:`mlstack.offline.harness.run_plan`, imported on the first plan."""
    from mlstack.offline.harness import run_plan as harness_run_plan

    return harness_run_plan(stack, project_dir)


def plan_stack(stack: str, project_dir: Path) -> Plan:
    """The offline plan of one stack; exits 2 with a short message when it cannot be made."""
    from mlstack.offline.harness import PlanConfigError, PlanRuntimeError

    try:
        return run_plan(stack, project_dir)
    except PlanConfigError as err:
        fail(str(err))
    except PlanRuntimeError as err:
        fail(f"stack '{stack}': {err}")


def plan_stacks(stacks: list[str], project_dir: Path) -> list[Plan]:
    """Plan each stack and attach its policy results; exits 2 on bad config."""
    from mlstack.checks import evaluate

    plans = []
    for stack in stacks:
        plan = plan_stack(stack, project_dir)
        plan.policy = evaluate(plan)
        plans.append(plan)
    return plans


def resolve_stacks(
    stack: str | None, all_stacks: bool, project_dir: Path, command: str = "plan"
) -> list[str]:
    """The stacks named on the command line, or every stack file with ``--all``."""
    if all_stacks and stack is not None:
        fail(
            f"give STACK ('{stack}') or --all, not both: 'mlstack {command} {stack}' or "
            f"'mlstack {command} --all'"
        )
    if not all_stacks and stack is None:
        fail(f"name one STACK or pass --all (e.g. 'mlstack {command} production')")
    if stack is not None:
        return [stack]
    from mlstack.offline.stack_files import StackFileError, load_project

    try:
        stacks = load_project(project_dir).stacks()
    except StackFileError as err:
        fail(str(err))
    if not stacks:
        fail(f"no stack files under {project_dir}")
    return stacks


def plan_json(plan: Plan) -> dict[str, object]:
    """The JSON document of a plan with its reviewer summary under ``"summary"``."""
    from mlstack.review import review_plan

    document = plan.to_json()
    return {**document, "summary": review_plan(document).to_json()}


def output_console() -> Console:
    """A console that never cuts: the terminal's width on a terminal, wide otherwise."""
    from rich.console import Console

    width = None if sys.stdout.isatty() else WIDE_CONSOLE_COLUMNS
    return Console(highlight=False, soft_wrap=True, width=width)


def _dump_json(payload: object) -> None:
    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan(
        stack: Annotated[
            str | None, typer.Argument(help="Stack to plan: staging, production.")
        ] = None,
        all_stacks: Annotated[bool, typer.Option("--all", help="Plan every stack.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the JSON plan.")] = False,
        tree: Annotated[
            bool, typer.Option("--tree", help="Show the resource tree and counts by type.")
        ] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Show what a stack would deploy, offline: the reviewer summary, then (with --tree)
        the resource tree, the alarms, the EKS posture and the policy results.

        Exit codes: 0 clean, 1 a mandatory policy is violated, 2 bad config or usage.
        """
        plans = plan_stacks(resolve_stacks(stack, all_stacks, project_dir), project_dir)
        if as_json:
            documents = [plan_json(p) for p in plans]
            _dump_json(documents[0] if stack is not None else documents)
        else:
            from mlstack.cli.render import render_plan

            console = output_console()
            for item in plans:
                render_plan(item, console, tree=tree)
        violated = any(p.has_mandatory_violation() for p in plans)
        raise typer.Exit(EXIT_POLICY if violated else EXIT_OK)
