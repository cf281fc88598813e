"""`mlstack smoke` against a real moto server.

moto's sagemaker-runtime answers every invocation, of any endpoint name, with the canned
body ``body`` unless a result is queued through its ``/moto-api``; it then remembers the
answer per request body (the same payload gets the same answer until the server is reset).
So each test resets the server, creates a real endpoint (describe_endpoint is checked
first), queues the answer a healthy kit server gives, and moto's default canned answer is
shown to be rejected: the shape check is what makes the smoke test pass or fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlstack.cli.app import app
from mlstack.cli.errors import EXIT_REMOTE, EXIT_USAGE
from tests.conftest import edit_stack_file
from tests.mlstack.models.conftest import free_port, queue_endpoint_result, reset_moto, unique

runner = CliRunner()


@pytest.fixture
def endpoint(sagemaker: Any, aws_env: str) -> str:
    """An InService endpoint in a freshly reset moto (model, endpoint config, endpoint)."""
    reset_moto(aws_env)
    name = unique("churn-endpoint")
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/mlstack-model",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name


def smoke(endpoint: str, project: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        ["smoke", "staging", "--endpoint", endpoint, "--project-dir", str(project), *extra],
    )


def test_smoke_passes_on_one_prediction_per_row(endpoint: str, project: Path, aws_env: str) -> None:
    queue_endpoint_result(aws_env, {"predictions": [0], "probabilities": [[0.9, 0.05, 0.05]]})
    result = smoke(endpoint, project, "--json")
    assert result.exit_code == 0, result.output
    observed = json.loads(result.stdout)
    assert observed["endpoint"] == endpoint
    assert observed["predictions"] == [0]
    assert observed["variant"] == "primary"


def test_smoke_reads_the_endpoint_from_the_environment(
    endpoint: str, project: Path, aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_endpoint_result(aws_env, {"predictions": ["setosa"]})
    monkeypatch.setenv("MLSTACK_ENDPOINT_NAME", endpoint)
    result = runner.invoke(app, ["smoke", "staging", "--project-dir", str(project)])
    assert result.exit_code == 0, result.output
    assert f"endpoint {endpoint} answered 1 prediction(s)" in result.stdout


def test_smoke_rejects_motos_canned_body(endpoint: str, project: Path) -> None:
    result = smoke(endpoint, project)
    assert result.exit_code == EXIT_REMOTE
    assert "response is not JSON: b'body'" in result.stderr


def test_smoke_rejects_a_wrong_number_of_predictions(
    endpoint: str, project: Path, aws_env: str
) -> None:
    queue_endpoint_result(aws_env, {"predictions": [0, 1]})
    result = smoke(endpoint, project)
    assert result.exit_code == EXIT_REMOTE
    assert "expected 1 prediction(s) for 1 row(s), got 2" in result.stderr


def test_smoke_rejects_a_response_without_predictions(
    endpoint: str, project: Path, aws_env: str
) -> None:
    queue_endpoint_result(aws_env, {"error": "model not loaded"})
    result = smoke(endpoint, project)
    assert result.exit_code == EXIT_REMOTE
    assert 'lacks a "predictions" list' in result.stderr


def test_smoke_rejects_an_answer_over_the_latency_budget(
    endpoint: str, project: Path, aws_env: str
) -> None:
    queue_endpoint_result(aws_env, {"predictions": [0]})
    result = smoke(endpoint, project, "--max-latency-ms", "0")
    assert result.exit_code == EXIT_REMOTE
    assert "over the 0 ms budget" in result.stderr


def test_smoke_rejects_an_endpoint_that_does_not_exist(project: Path, aws_env: str) -> None:
    result = smoke("no-such-endpoint", project)
    assert result.exit_code == EXIT_REMOTE
    assert "describing endpoint 'no-such-endpoint'" in result.stderr


def test_smoke_reports_a_network_failure(
    project: Path, aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    result = smoke("churn", project)
    assert result.exit_code == EXIT_REMOTE
    assert "cannot reach AWS" in result.stderr


def test_smoke_asks_for_the_endpoint_when_it_cannot_find_it(
    project: Path, aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(project))  # no pulumi CLI to read stack outputs with
    result = runner.invoke(app, ["smoke", "staging", "--project-dir", str(project)])
    assert result.exit_code == EXIT_USAGE
    assert "pass --endpoint NAME or set MLSTACK_ENDPOINT_NAME" in result.stderr


@pytest.mark.parametrize(
    "body",
    [
        '{"predictions": [NaN]}',
        '{"predictions": [Infinity]}',
        '{"predictions": [[[0.1, 0.9]]]}',
        '{"predictions": [' + "[" * 100_000 + "]" * 100_000 + "]}",
    ],
    ids=["nan", "infinity", "nested-twice", "nested-deeply"],
)
def test_smoke_rejects_non_finite_or_deeply_nested_predictions(
    endpoint: str, project: Path, aws_env: str, body: str
) -> None:
    queue_endpoint_result(aws_env, body)
    result = smoke(endpoint, project)
    assert result.exit_code == EXIT_REMOTE, result.output
    assert "Traceback" not in result.output


def test_smoke_json_reports_a_failure_as_json(endpoint: str, project: Path) -> None:
    result = smoke(endpoint, project, "--json")
    assert result.exit_code == EXIT_REMOTE
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert "response is not JSON" in document["error"]


def test_smoke_without_any_aws_region_is_a_usage_error(
    project: Path, aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    edit_stack_file(project, "staging", lambda config: config.pop("aws:region"))
    result = smoke("churn", project)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "aws:region is not set" in result.stderr or "no AWS region" in result.stderr


@pytest.mark.parametrize(
    ("case", "code", "needle"),
    [
        ("bad-payload", EXIT_USAGE, "--payload"),
        ("nan-prediction", EXIT_REMOTE, "finite numbers"),
        ("no-region", EXIT_USAGE, "aws:region is not set"),
    ],
)
def test_smoke_json_prints_a_json_result_on_every_failure(
    endpoint: str,
    project: Path,
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    code: int,
    needle: str,
) -> None:
    extra = ["--json"]
    if case == "bad-payload":
        bad = tmp_path / "payload.json"
        bad.write_text('{"rows": []}')
        extra += ["--payload", str(bad)]
    elif case == "nan-prediction":
        queue_endpoint_result(aws_env, '{"predictions": [NaN]}')
    else:
        monkeypatch.delenv("AWS_DEFAULT_REGION")
        edit_stack_file(project, "staging", lambda config: config.pop("aws:region"))
    result = smoke(endpoint, project, *extra)
    assert result.exit_code == code, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert needle in document["error"]
