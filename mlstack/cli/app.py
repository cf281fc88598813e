"""The ``mlstack`` command. Each subcommand lives in its own module and registers here.

A subcommand's module imports only typer at start; what the command needs (the Pulumi SDK,
the policy pack, boto3, the sagemaker SDK, checkov's driver) is imported when it runs, so
``mlstack --help`` and a command's ``--help`` start in a fraction of a plan's time.
"""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from mlstack.cli import (
    check_cmd,
    compare_cmd,
    diff_cmd,
    model_cmd,
    pipeline_cmd,
    plan_cmd,
    render_k8s_cmd,
    scan_cmd,
    serve_cmd,
    smoke_cmd,
)

app = typer.Typer(
    name="mlstack",
    # Plain help: paragraphs rewrap to the terminal and flags show no type placeholder.
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
    help="Plan, check and operate the mlstack stacks (offline plan needs no cloud credentials).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"mlstack {version('mlstack')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """mlstack: ship machine-learning models to AWS with Pulumi."""


plan_cmd.register(app)
check_cmd.register(app)
serve_cmd.register(app)
diff_cmd.register(app)
compare_cmd.register(app)
model_cmd.register(app)
pipeline_cmd.register(app)
smoke_cmd.register(app)
render_k8s_cmd.register(app)
scan_cmd.register(app)


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector stays off for the life of the command: every command runs
    once and exits (``serve`` replaces the process with the server's own interpreter, which
    collects as usual). A plan's Outputs, futures and resources hold one another in cycles
    that only the process's end frees, so each collection traversed them for nothing: the
    import of the SDKs and, after the plan, every object the plan made (7 ms per model)."""
    gc.disable()
    try:
        app()
    finally:
        freeze_heap_at_exit()


def freeze_heap_at_exit() -> None:
    """Spare the interpreter's exit its last garbage collections: a process that planned
    holds some 400,000 objects (the SDKs' modules and classes, and the plan), and the
    collections at shutdown traverse them all (1.1 s after planning production). Frozen
    objects are skipped; the process is ending, so nothing is lost."""
    gc.freeze()
