"""``mlstack check``: run the policy pack over a stack's offline plan.

Prints every violation with its rule, the checkov check it mirrors, the resource and the fix.
Exit codes: 0 no mandatory violation, 1 a mandatory rule is violated, 2 bad config or usage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlstack.cli.errors import EXIT_OK, EXIT_POLICY, fail
from mlstack.cli.plan_cmd import ProjectDir, plan_stacks, resolve_stacks
from mlstack.project import tiers_file

if TYPE_CHECKING:
    from rich.console import Console

    from mlstack.offline.plan import Plan, PolicyResult


def _resource_label(plan: Plan, urn: str | None) -> str:
    resource = plan.by_urn(urn) if urn else None
    if resource is None:
        return "(stack)"
    return f"{resource.name} ({resource.type})"


def describe(plan: Plan, result: PolicyResult) -> str:
    """One violation as the lines ``mlstack check`` prints: rule, resource, problem, fix."""
    from policy_pack.rules import rule_named

    rule = rule_named(result.policy)
    checkov = f" [{rule.checkov_id}]" if rule.checkov_id else ""
    return (
        f"{result.level.upper()} {result.policy}{checkov}\n"
        f"  resource: {_resource_label(plan, result.urn)}\n"
        f"  problem:  {result.message}\n"
        f"  fix:      {rule.fix}"
    )


def report(plan: Plan, console: Console) -> None:
    """Print a stack's policy results and a one-line summary."""
    from mlstack.checks import stack_enforcement
    from policy_pack.rules import RULES

    for result in plan.policy:
        style = "red" if result.level == "mandatory" else "yellow"
        console.print(f"[{style}]{describe(plan, result)}[/{style}]", markup=True, highlight=False)
    mandatory = sum(1 for r in plan.policy if r.level == "mandatory")
    console.print(
        f"{plan.stack}: {len(RULES)} rules at {stack_enforcement(plan)} enforcement, "
        f"{len(plan.policy)} violation(s), {mandatory} mandatory"
    )


def judged_plan_file(path: Path, project_dir: Path) -> Plan:
    """The plan in ``path`` with its policy results. The document's own tier is ignored: the
    project's declaration decides (a stack it does not list is production)."""
    from mlstack.checks import evaluate
    from mlstack.offline.plan import Plan, PlanDocumentError
    from policy_pack.settings import tier_of

    try:
        plan = Plan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as err:
        fail(f"{path}: cannot be read ({err.__class__.__name__})")
    except json.JSONDecodeError as err:
        fail(f"{path}: not JSON (line {err.lineno}, column {err.colno}: {err.msg})")
    except PlanDocumentError as err:
        fail(f"{path}: {err}")
    plan.tier = tier_of(plan.stack, tiers_file(project_dir))
    plan.policy = evaluate(plan)
    return plan


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        stack: Annotated[
            str | None, typer.Argument(help="Stack to check: staging, production.")
        ] = None,
        all_stacks: Annotated[bool, typer.Option("--all", help="Check every stack.")] = False,
        plan_file: Annotated[
            Path | None,
            typer.Option(
                "--plan",
                help="Judge a plan document (mlstack plan --json, or one made elsewhere) "
                "instead of planning. Its tier comes from policy_pack/tiers.yaml by stack name.",
            ),
        ] = None,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Run the policy pack over a stack's offline plan.

        Exit codes: 0 no mandatory violation, 1 a mandatory rule is violated, 2 bad config.
        """
        from rich.console import Console

        if plan_file is not None:
            if stack is not None or all_stacks:
                fail("--plan judges the stack the document names: drop STACK and --all")
            plans = [judged_plan_file(plan_file, Path(project_dir))]
        else:
            plans = plan_stacks(
                resolve_stacks(stack, all_stacks, Path(project_dir), "check"), project_dir
            )
        console = Console(highlight=False, soft_wrap=True)
        for plan in plans:
            report(plan, console)
        violated = any(p.has_mandatory_violation() for p in plans)
        raise typer.Exit(EXIT_POLICY if violated else EXIT_OK)
