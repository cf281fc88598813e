"""``mlstack scan``: checkov, offline, over a stack's AWS resources (as Terraform JSON), its
Kubernetes manifests and the serving Dockerfile.

Exit codes: 0 every check passed or is skipped with a reason, 1 a check failed, 2 bad config,
usage, or checkov missing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlstack.cli.errors import EXIT_OK, EXIT_POLICY, fail
from mlstack.cli.plan_cmd import ProjectDir, plan_stacks, resolve_stacks
from mlstack.project import PROJECT_ROOT

if TYPE_CHECKING:
    from rich.console import Console

    from mlstack.scan.checkov import ScanReport


def _where(resource: str, framework: str, result: ScanReport) -> str:
    """checkov's resource id, with the Terraform address and Pulumi URN it came from."""
    if framework != "terraform_json":
        return resource
    name = resource.rsplit(".", 1)[-1]
    matches = [
        (urn, address)
        for urn, address in result.conversion.converted.items()
        if address == resource or address.rsplit(".", 1)[-1] == name
    ]
    if len(matches) != 1:
        return resource
    urn, address = matches[0]
    return f"{address} <- {urn.split('::')[-2].rsplit('$', 1)[-1]} {urn.split('::')[-1]}"


def report(result: ScanReport, console: Console) -> None:
    """Print one stack's scan: failures, counts per framework, skips and what was left out."""
    from mlstack.scan.checkov import FRAMEWORKS, SKIPS_FILE

    for framework in FRAMEWORKS:
        outcome = result.results[framework]
        for failure in outcome.failed:
            console.print(
                f"FAILED {failure.check_id} {failure.check_name}\n"
                f"  resource: {_where(failure.resource, framework, result)}\n"
                f"  file:     {framework}{failure.file}"
            )
    for note in result.notes:
        console.print(f"note: {note}")
    for type_token, name, reason in result.conversion.not_converted:
        if reason.startswith("unknown"):
            console.print(f"not converted: {name} ({type_token}): {reason}")
    left_out = len(result.conversion.not_converted)
    console.print(
        f"{result.stack}: converted {len(result.conversion.converted)} AWS resources to "
        f"Terraform JSON; {left_out} planned resources are not AWS resources "
        "(components, providers, Kubernetes objects scanned as manifests)"
    )
    for framework in FRAMEWORKS:
        outcome = result.results[framework]
        console.print(
            f"{result.stack} {framework}: {outcome.passed} passed, {len(outcome.failed)} failed, "
            f"{outcome.skipped} skipped, {outcome.parsing_errors} parsing errors"
        )
    covered = result.results["kubernetes"].checks_by_resource
    if covered:
        objects = ", ".join(f"{name} ({count})" for name, count in sorted(covered.items()))
        console.print(f"{result.stack} kubernetes objects checked (checks run): {objects}")
    console.print(
        f"{result.stack}: {len(result.skips)} checks skipped by "
        f"{SKIPS_FILE.relative_to(PROJECT_ROOT)} (each with its reason)"
    )


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan_command(
        stack: Annotated[
            str | None, typer.Argument(help="Stack to scan: staging, production.")
        ] = None,
        all_stacks: Annotated[bool, typer.Option("--all", help="Scan every stack.")] = False,
        keep: Annotated[
            Path | None,
            typer.Option("--keep", help="Write the scanned files here instead of a temp dir."),
        ] = None,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Run checkov offline over a stack's resources, manifests and Dockerfile.

        Needs checkov: `make tools` installs it into .venv-tools (or put it on PATH).
        Exit codes: 0 clean, 1 a check failed, 2 bad config, usage or checkov missing.
        """
        from rich.console import Console

        from mlstack.scan.checkov import CHECKOV_MISSING, ScanError, checkov_binary, scan

        if checkov_binary() is None:
            fail(CHECKOV_MISSING)
        plans = plan_stacks(resolve_stacks(stack, all_stacks, project_dir, "scan"), project_dir)
        console = Console(highlight=False, soft_wrap=True)
        failed = False
        for plan in plans:
            with tempfile.TemporaryDirectory(prefix=f"mlstack-scan-{plan.stack}-") as tmp:
                workdir = keep / plan.stack if keep else Path(tmp)
                try:
                    result = scan(plan, workdir)
                except ScanError as err:
                    fail(str(err))
            report(result, console)
            failed = failed or not result.ok
        raise typer.Exit(EXIT_POLICY if failed else EXIT_OK)
