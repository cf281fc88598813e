"""The ``mlstack`` command. Each subcommand lives in its own module and registers here."""

from __future__ import annotations

import typer

from mlstack.cli import (
    check_cmd,
    compare_cmd,
    diff_cmd,
    model_cmd,
    plan_cmd,
    render_k8s_cmd,
    scan_cmd,
    serve_cmd,
    smoke_cmd,
)

app = typer.Typer(
    name="mlstack",
    help="Plan, check and operate the mlstack stacks (offline plan needs no cloud credentials).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """mlstack: ship machine-learning models to AWS with Pulumi."""


plan_cmd.register(app)
check_cmd.register(app)
serve_cmd.register(app)
diff_cmd.register(app)
compare_cmd.register(app)
model_cmd.register(app)
smoke_cmd.register(app)
render_k8s_cmd.register(app)
scan_cmd.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
