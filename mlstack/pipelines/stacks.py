"""A stack's validated config and its models, read from the stack file as the program reads
it (the same encoding and ``build_config``)."""

from __future__ import annotations

from pathlib import Path

from infra.config.loader import build_config
from infra.config.model import ModelConfig
from infra.config.stack import StackConfig
from mlstack.offline.stack_files import encode_config, load_project, load_stack_doc


def stack_config(root: Path, stack: str) -> StackConfig:
    """The validated config of ``stacks/Pulumi.<stack>.yaml``; ConfigError when invalid."""
    project = load_project(root)
    doc = load_stack_doc(project, stack)
    encoded = encode_config(project, doc)
    return build_config(stack, encoded.values, encoded.secret_keys)


def model_name(config: StackConfig) -> str:
    """The name of a stack's model: its model package group."""
    return config.model_package_group_name


def stack_models(root: Path, stack: str) -> tuple[StackConfig, dict[str, ModelConfig]]:
    """The stack's config and its models by name."""
    config = stack_config(root, stack)
    return config, {model_name(config): config.model}
