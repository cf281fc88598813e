"""Human-readable plan output: the reviewer summary first, then the resource tree (with
``--tree``; a one-line hint otherwise), the alarms, the EKS posture and the policy results.

Each section is a function of the plan alone; sections with nothing to say print nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from mlstack.cli.render_delivery import alarm_table
from mlstack.cli.render_eks import eks_summary
from mlstack.cli.render_secrets import secret_summary
from mlstack.offline.plan import Plan, PlannedResource
from mlstack.review import review_plan

Section = Callable[[Plan, Console], None]


def _label(resource: PlannedResource) -> str:
    kind = resource.type.split(":")[-1]
    style = "bold cyan" if not resource.custom else ""
    text = f"{escape(resource.name)} [dim]({escape(kind)})[/dim]"
    return f"[{style}]{text}[/{style}]" if style else text


def component_tree(plan: Plan, console: Console) -> None:
    """Resources nested under their components, as ``pulumi preview`` shows them."""
    stack_urn = next(
        (r.parent for r in plan.resources if r.parent and "pulumi:Stack" in r.parent), None
    )
    root = Tree(f"[bold]{plan.project}-{plan.stack}[/bold] (pulumi:pulumi:Stack)")

    def add(node: Tree, parent: str | None) -> None:
        for child in sorted(plan.children(parent), key=lambda r: (r.custom, r.type, r.name)):
            add(node.add(_label(child)), child.urn)

    add(root, stack_urn)
    console.print(root)


def counts_by_type(plan: Plan, console: Console) -> None:
    table = Table(title=f"{plan.stack}: {len(plan.resources)} resources", title_justify="left")
    table.add_column("type", overflow="fold")
    table.add_column("count", justify="right")
    for type_token, count in sorted(plan.counts_by_type().items()):
        table.add_row(type_token, str(count))
    console.print(table)


def policy_results(plan: Plan, console: Console) -> None:
    if not plan.policy:
        console.print(f"[green]policy: no violations in {plan.stack}[/green]")
        return
    table = Table(title="policy violations", title_justify="left")
    for column in ("level", "policy", "resource", "message"):
        table.add_column(column, overflow="fold")
    for result in plan.policy:
        name = result.urn.split("::")[-1] if result.urn else "-"
        style = "red" if result.level == "mandatory" else "yellow"
        table.add_row(
            f"[{style}]{result.level}[/{style}]",
            escape(result.policy),
            escape(name),
            escape(result.message),
        )
    console.print(table)


def summary(plan: Plan, console: Console) -> None:
    """The reviewer summary (:mod:`mlstack.review`): plain lines, never cut."""
    for line in review_plan(plan.to_json()).lines():
        console.print(escape(line), soft_wrap=True)


def tree_hint(plan: Plan, console: Console) -> None:
    """One line in place of the resource tree, saying how to show it."""
    components = sum(1 for r in plan.resources if not r.custom)
    console.print(
        f"resource tree: {len(plan.resources)} resources in {components} components "
        f"(mlstack plan {escape(plan.stack)} --tree shows them)",
        soft_wrap=True,
    )


def resource_tree(plan: Plan, console: Console) -> None:
    """The component tree and the counts by type, in one place."""
    component_tree(plan, console)
    counts_by_type(plan, console)


DETAILS: list[Section] = [alarm_table, eks_summary, secret_summary, policy_results]
"""Printed after the summary and the tree, in this order."""


def render_plan(plan: Plan, console: Console, *, tree: bool = False) -> None:
    """The summary, then the tree (``tree``) or a hint, then the detail sections."""
    console.rule(f"[bold]stack {plan.stack}")
    summary(plan, console)
    (resource_tree if tree else tree_hint)(plan, console)
    for section in DETAILS:
        section(plan, console)
