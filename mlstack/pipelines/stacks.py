"""A stack's validated config and its models, read from the stack file as the program reads
it (the same encoding and ``build_config``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.config.loader import build_config
from infra.config.model import ModelConfig
from infra.config.stack import StackConfig
from mlstack.offline.stack_files import encode_config, load_project, load_stack_doc


@dataclass(frozen=True)
class StackModel:
    """One model of a stack as its loop sees it."""

    name: str
    """The loop's name (``ServedModel.loop_name``): pipelines ``<name>-retraining`` and
    ``<name>-batch``, definition files ``stacks/pipelines/<stack>-<name>[-batch].json``."""
    group: str
    """The model package group candidates register into."""
    config: ModelConfig


def stack_config(root: Path, stack: str) -> StackConfig:
    """The validated config of ``stacks/Pulumi.<stack>.yaml``; ConfigError when invalid."""
    project = load_project(root)
    doc = load_stack_doc(project, stack)
    encoded = encode_config(project, doc)
    return build_config(stack, encoded.values, encoded.secret_keys)


def stack_models(root: Path, stack: str) -> tuple[StackConfig, dict[str, StackModel]]:
    """The stack's config and every model it serves (``mlstack:models``, or the one of
    ``mlstack:model``), by loop name."""
    config = stack_config(root, stack)
    models = [
        StackModel(served.loop_name, served.view.model_package_group_name, served.view.model)
        for served in config.served_models()
    ]
    return config, {model.name: model for model in models}
