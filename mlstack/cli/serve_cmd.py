"""``mlstack serve``: run the serving image's server locally, exactly as the image runs it.

The command replaces itself with ``python -m serving serve`` (the kit never imports the
serving code), with the SageMaker environment variables the image reads, so signals such as
SIGTERM reach the server directly and it drains as it does in a container.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from mlstack.cli.errors import fail


def serve_command(
    model_dir: Path, port: int, workers: int | None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that ``mlstack serve`` runs."""
    env = {**os.environ, "MODEL_DIR": str(model_dir), "SAGEMAKER_BIND_TO_PORT": str(port)}
    if workers is not None:
        env["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(workers)
    return [sys.executable, "-m", "serving", "serve"], env


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        model_dir: Annotated[
            Path, typer.Option("--model-dir", help="Directory holding model.joblib / model.onnx.")
        ] = Path("/opt/ml/model"),
        port: Annotated[int, typer.Option(help="Port to listen on (default 8080).")] = 8080,
        workers: Annotated[
            int | None, typer.Option(help="Worker processes (default: one per CPU).")
        ] = None,
    ) -> None:
        """Serve a model directory with the serving image's server (/ping, /invocations)."""
        if not model_dir.is_dir():
            fail(
                f"--model-dir {model_dir} is not a directory: "
                "train one with `python -m serving.example DIR`"
            )
        command, env = serve_command(model_dir, port, workers)
        sys.stdout.flush()
        os.execve(command[0], command, env)
