"""A stack's validated config and the models whose loops it declares, read from the stack file
as the program reads it (the same encoding, ``build_config`` and loop names)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.config.errors import project_key
from infra.config.loader import build_config
from infra.config.model import ModelConfig
from infra.config.stack import StackConfig
from mlstack.offline.stack_files import encode_config, load_project, load_stack_doc


@dataclass(frozen=True)
class PipelineModel:
    """One model of a stack, as its loop goes: the program's name for it and its settings."""

    name: str
    """The name its loop goes by (:func:`infra.config.models.loop_name`): the model's name in
    ``mlstack:models``, its model package group in a single-model stack."""
    settings: ModelConfig
    """Its resolved settings (``mlstack:modelDefaults`` merged in)."""
    package_group_name: str
    """The model package group its candidates register in."""
    key: str
    """Where its settings are in the stack file: ``mlstack:model`` or
    ``mlstack:models.<name>``."""


def stack_config(root: Path, stack: str) -> StackConfig:
    """The validated config of ``stacks/Pulumi.<stack>.yaml``; ConfigError when invalid."""
    project = load_project(root)
    doc = load_stack_doc(project, stack)
    encoded = encode_config(project, doc)
    return build_config(stack, encoded.values, encoded.secret_keys)


def stack_models(root: Path, stack: str) -> tuple[StackConfig, dict[str, PipelineModel]]:
    """The stack's config and every model it serves (the program's
    :meth:`StackConfig.served_models`), by the name its loop goes by."""
    config = stack_config(root, stack)
    models: dict[str, PipelineModel] = {}
    for served in config.served_models():
        group = served.view.model_package_group_name
        name = served.loop_name
        models[name] = PipelineModel(
            name=name,
            settings=served.view.model,
            package_group_name=group,
            key=project_key(served.key_path("model")),
        )
    return config, models
