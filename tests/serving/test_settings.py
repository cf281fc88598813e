"""Settings come from named environment variables, once, with documented defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.errors import SettingsError
from serving.settings import MIB, Settings, available_cpus


def test_defaults_follow_the_sagemaker_contract() -> None:
    settings = Settings.from_env({})
    assert settings.model_dir == Path("/opt/ml/model")
    assert settings.port == 8080
    assert settings.host == "0.0.0.0"
    assert settings.workers == available_cpus()
    assert settings.max_body_bytes == 6 * MIB
    assert settings.request_timeout_seconds == 60.0
    assert settings.graceful_timeout_seconds < 30


def test_reads_each_named_variable() -> None:
    settings = Settings.from_env(
        {
            "MODEL_DIR": "/models/iris",
            "SAGEMAKER_BIND_TO_PORT": "9000",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "SAGEMAKER_MODEL_SERVER_TIMEOUT": "2.5",
            "SERVING_MAX_BODY_BYTES": "1024",
            "SERVING_MAX_CONCURRENCY": "5",
            "SERVING_ACCESS_LOG": "true",
            "SERVING_MODEL_FORMAT": "ONNX",
        }
    )
    assert settings.model_dir == Path("/models/iris")
    assert (settings.port, settings.workers) == (9000, 3)
    assert settings.request_timeout_seconds == 2.5
    assert (settings.max_body_bytes, settings.max_concurrency) == (1024, 5)
    assert settings.access_log is True
    assert settings.model_format == "onnx"


def test_sagemaker_port_wins_over_port() -> None:
    assert Settings.from_env({"PORT": "9001"}).port == 9001
    assert Settings.from_env({"PORT": "9001", "SAGEMAKER_BIND_TO_PORT": "9002"}).port == 9002


def test_overrides_beat_the_environment_and_none_means_not_given() -> None:
    env = {"SAGEMAKER_BIND_TO_PORT": "9000", "MODEL_DIR": "/a"}
    settings = Settings.from_env(env, port=7000, model_dir="/b", workers=None)
    assert (settings.port, settings.model_dir) == (7000, Path("/b"))
    assert settings.workers == available_cpus()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAGEMAKER_BIND_TO_PORT", "http"),
        ("SAGEMAKER_BIND_TO_PORT", "70000"),
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "0"),
        ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "-1"),
        ("SERVING_MAX_BODY_BYTES", "6MiB"),
        ("SERVING_ACCESS_LOG", "maybe"),
        ("SERVING_MODEL_FORMAT", "pickle"),
    ],
)
def test_rejects_malformed_values_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_rejects_an_invalid_override() -> None:
    with pytest.raises(SettingsError, match="port"):
        Settings.from_env({}, port=0)
