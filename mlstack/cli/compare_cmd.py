"""``mlstack compare``: how two stacks differ, for environment parity reviews."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from mlstack.cli.errors import fail
from mlstack.cli.plan_cmd import ProjectDir, plan_stacks

if TYPE_CHECKING:
    from mlstack.offline.plan import Plan


def plan_document(plan: Plan) -> dict[str, Any]:
    """A plan (with its policy results) as the document :mod:`mlstack.diff` reads."""
    return {**plan.to_json(), "secretKeys": list(plan.secret_keys)}


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        base: Annotated[str, typer.Argument(help="The reference stack, e.g. staging.")],
        other: Annotated[str, typer.Argument(help="The stack compared to it, e.g. production.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Show how stack OTHER differs from stack BASE (resources, inputs, sizing, rollout).

        Names that differ only by the stack name, tags with one value per stack and alarm
        thresholds scaled to each instance size are folded into one line each; alarms and
        variants are paired by name; thresholds read in the stack files' units.
        Exit codes: 0 printed, 2 bad config or usage.
        """
        from mlstack.compare import compare_plans, render_comparison

        if base == other:
            fail(f"compare two different stacks (got '{base}' twice)")
        left, right = plan_stacks([base, other], project_dir)
        result = compare_plans(plan_document(left), plan_document(right), base, other)
        if as_json:
            payload = {"stacks": [base, other], **result.to_json()}
            sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            sys.stdout.write(render_comparison(result, f"mlstack compare: {base} → {other}"))
