"""``mlstack smoke``: invoke a deployed endpoint with the example payload and check it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer

from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE, fail
from mlstack.cli.outputs import stack_output
from mlstack.cli.plan_cmd import ProjectDir

ENDPOINT_ENV = "MLSTACK_ENDPOINT_NAME"
ENDPOINT_OUTPUT = "endpointName"
"""The stack output holding the endpoint's name (read with the Pulumi CLI when present)."""


def _payload(path: Path | None) -> dict[str, Any]:
    """The request body; raises ``ValueError`` with a message naming the file."""
    from mlstack.models.smoke import EXAMPLE_PAYLOAD

    if path is None:
        return EXAMPLE_PAYLOAD
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(f"--payload {path}: {err}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
        raise ValueError(f'--payload {path}: expected {{"instances": [[...], ...]}}')
    return payload


def register(app: typer.Typer) -> None:
    @app.command("smoke")
    def smoke(
        stack: Annotated[str, typer.Argument(help="Deployed stack: staging, production.")],
        model_name: Annotated[
            str | None,
            typer.Argument(metavar="[MODEL]", help="The model of mlstack:models to check."),
        ] = None,
        endpoint: Annotated[
            str | None,
            typer.Option(
                "--endpoint",
                envvar=ENDPOINT_ENV,
                help="Endpoint name (default: the stack output endpointName via the Pulumi CLI).",
            ),
        ] = None,
        payload: Annotated[
            Path | None,
            typer.Option(
                "--payload", help="JSON request body (default: one iris row).", dir_okay=False
            ),
        ] = None,
        max_latency_ms: Annotated[
            float, typer.Option("--max-latency-ms", help="Latency budget in ms.", min=0)
        ] = 2000.0,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        project_dir: ProjectDir = None,  # type: ignore[assignment],
    ) -> None:
        """Invoke STACK's endpoint with the example payload; check status, shape and latency.

        In a stack of many models, name the MODEL: its endpoint (or, on a shared fleet, its
        inference component) is invoked, by the names the stack file resolves to.

        Exit codes: 0 healthy, 2 bad usage, 3 unreachable or unhealthy endpoint.
        """
        from mlstack.models import smoke as smoke_check
        from mlstack.models import stack_file as stack_model
        from mlstack.models.aws import AwsError, AwsSetupError, client

        def failed(message: str, code: int) -> NoReturn:
            if as_json:
                document = {"stack": stack, "endpoint": endpoint, "ok": False, "error": message}
                sys.stdout.write(orjson.dumps(document).decode() + "\n")
            fail(message, code)

        try:
            served = stack_model.read_stack_model(project_dir, stack, model_name)
        except stack_model.StackEditError as err:
            failed(str(err), EXIT_USAGE)
        region = served.region
        if model_name is not None:
            name = endpoint or served.endpoint_name
            if not name:
                failed(f"model '{model_name}' of '{stack}' is not served by SageMaker", EXIT_USAGE)
        else:
            name = endpoint or stack_output(stack, ENDPOINT_OUTPUT, project_dir)
        if not name:
            failed(
                f"which endpoint serves '{stack}'? pass --endpoint NAME or set {ENDPOINT_ENV} "
                f"(the stack output {ENDPOINT_OUTPUT})",
                EXIT_USAGE,
            )
        try:
            body = _payload(payload)
        except ValueError as err:
            failed(str(err), EXIT_USAGE)
        try:
            result = smoke_check.smoke(
                client("sagemaker", region),
                client("sagemaker-runtime", region),
                name,
                body,
                max_latency_ms,
                inference_component=served.inference_component,
            )
        except AwsSetupError as err:
            failed(f"smoke {stack}: {err}", EXIT_USAGE)
        except (AwsError, smoke_check.SmokeError) as err:
            failed(f"smoke {stack}: {err}", EXIT_REMOTE)
        if as_json:
            document = {"stack": stack, "ok": True, **result.to_json()}
            sys.stdout.write(orjson.dumps(document).decode() + "\n")
        else:
            sys.stdout.write(
                f"smoke {stack}: ok, endpoint {result.endpoint} answered "
                f"{len(result.predictions)} prediction(s) in {result.latency_ms:.0f} ms\n"
            )
