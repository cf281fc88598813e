"""The model version a stack file serves, and its one-line promotion.

``mlstack:model.packageVersion`` names the model package version a stack serves, from
``mlstack:model.packageGroupName`` (default: ``mlstack:registry.modelPackageGroupName``).
Promotion rewrites that one scalar in place: ruamel.yaml's round-trip loader finds its line
and column, only those characters change (comments, order, quoting and indentation stay
byte-for-byte), the result is re-parsed and validated as a stack config, and the file is
replaced atomically (temporary file in the same directory, fsync, ``os.replace``).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError

from infra.config import PROJECT, ConfigError, StackConfig, build_config
from mlstack.offline.stack_files import (
    StackFileError,
    encode_config,
    load_project,
    load_yaml_text,
    stack_config_of,
)

MODEL_KEY = f"{PROJECT}:model"
MODELS_KEY = f"{PROJECT}:models"
VERSION_FIELD = "packageVersion"


class StackEditError(Exception):
    """The stack file cannot be read or promoted; the message names the file and key."""


@dataclass(frozen=True)
class StackModel:
    """Where a stack's model comes from, and where it is served."""

    path: Path
    stack: str
    region: str | None
    group: str
    version: int | None
    endpoint_name: str | None = None
    """The SageMaker endpoint serving it (a stack of models names it per model)."""
    inference_component: str | None = None
    """Its inference component, when it runs on a shared fleet."""


def _config(doc: Any, path: Path) -> dict[str, Any]:
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise StackEditError(f"{path}: expected a mapping with a 'config' key")
    return config


def read_stack_model(project_root: Path, stack: str, model: str | None = None) -> StackModel:
    """The model group, version and region of ``stack``'s file, as the program resolves
    them (the file is validated first; its defaults come from the config package). A stack
    of many models (``mlstack:models``) needs ``model``, the name of one of them."""
    try:
        path = load_project(project_root).stack_file(stack)
    except StackFileError as err:
        raise StackEditError(str(err)) from None
    if not path.exists():
        raise StackEditError(f"no stack '{stack}': {path} does not exist")
    config = stack_config(project_root, stack, path.read_text(encoding="utf-8"))
    if config.models or model is not None:
        settings = config.models.get(model or "")
        if settings is None:
            names = ", ".join(config.models) or "none: it serves mlstack:model, name no model"
            raise StackEditError(
                f"{path}: {'name a model' if model is None else f'no model {model!r}'} of "
                f"{MODELS_KEY} ({names})"
            )
        served = next(m for m in config.served_models() if m.name == model)
        endpoint = served.view.endpoint_name if settings.on_sagemaker else None
        return StackModel(
            path=path,
            stack=stack,
            region=config.region,
            group=settings.package_group_name or config.registry.model_package_group_name,
            version=settings.package_version,
            endpoint_name=endpoint,
            # The program names a model's inference component <fleet endpoint>-<model>.
            inference_component=f"{endpoint}-{model}" if served.fleet is not None else None,
        )
    return StackModel(
        path=path,
        stack=stack,
        region=config.region,
        group=config.model_package_group_name,
        version=config.model.package_version,
    )


def promoted_text(text: str, path: Path, version: int, model_name: str | None = None) -> str:
    """``text`` with ``mlstack:model.packageVersion`` (or, with ``model_name``,
    ``mlstack:models.<model_name>.packageVersion``) set to ``version``, nothing else changed."""
    try:
        doc = YAML(typ="rt").load(text)
    except RuamelError as err:
        raise StackEditError(f"{path}: not valid YAML ({err})") from None
    config = _config(doc, path)
    if model_name is None:
        key_path: tuple[str, ...] = (MODEL_KEY,)
        model = config.get(MODEL_KEY)
    else:
        key_path = (MODELS_KEY, model_name)
        models = config.get(MODELS_KEY)
        model = models.get(model_name) if isinstance(models, dict) else None
    shown = ".".join(key_path)
    if not isinstance(model, dict) or VERSION_FIELD not in model:
        raise StackEditError(
            f"{path}: {shown}.{VERSION_FIELD} is not set\n"
            f"  promote moves a stack between registry versions; add {VERSION_FIELD} first"
        )
    if not isinstance(model[VERSION_FIELD], int) or isinstance(model[VERSION_FIELD], bool):
        raise StackEditError(f"{path}: {shown}.{VERSION_FIELD} must be an integer")
    line_no, column = model.lc.value(VERSION_FIELD)
    lines = text.splitlines(keepends=True)
    match = re.compile(r"[0-9]+").match(lines[line_no], column)
    if match is None:
        raise StackEditError(f"{path}:{line_no + 1}: cannot locate {VERSION_FIELD}'s value")
    line = lines[line_no]
    lines[line_no] = line[: match.start()] + str(version) + line[match.end() :]
    new_text = "".join(lines)
    expected = yaml.safe_load(text)
    section = expected["config"]
    for key in key_path:
        section = section[key]
    section[VERSION_FIELD] = version
    if yaml.safe_load(new_text) != expected:
        raise StackEditError(f"{path}: rewriting {VERSION_FIELD} would change other values")
    return new_text


def stack_config(project_root: Path, stack: str, text: str) -> StackConfig:
    """``text`` validated as ``stack``'s file, exactly as a plan would, with every default
    filled in by the config package."""
    try:
        project = load_project(project_root)
        path = project.stack_file(stack)
        encoded = encode_config(project, stack_config_of(load_yaml_text(text, path), path))
        return build_config(stack, encoded.values, encoded.secret_keys)
    except (StackFileError, ConfigError) as err:
        raise StackEditError(str(err)) from None


def validate(project_root: Path, stack: str, text: str) -> None:
    """Validate ``text`` as ``stack``'s file, exactly as a plan would."""
    stack_config(project_root, stack, text)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never half.

    The file keeps its permission bits."""
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def unified_diff(old: str, new: str, label: str) -> str:
    """A unified diff of the stack file, as ``git diff`` would show it."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{label}",
            tofile=f"b/{label}",
        )
    )
