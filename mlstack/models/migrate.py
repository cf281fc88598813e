"""Move a single-model stack file to ``mlstack:models`` with one entry, keeping every URN.

The entry gets ``legacyNames: true``: its resources keep the single-model logical names and
physical names (endpoint ``mlstack-<stack>`` or the file's ``endpointName``, alarm names,
namespace), so ``pulumi up`` after the migration replaces nothing. The sections move with
their comments (ruamel.yaml round trip): ``mlstack:model``'s keys become the entry's own keys;
``mlstack:sagemaker``, ``rollout`` and ``autoscaling`` become its sections of the same name;
``mlstack:monitoring.alarms``/``drift`` its ``alarms``/``drift``; the per-model keys of
``mlstack:kubernetes`` its ``kubernetes``. The result is validated before it is written.
"""

from __future__ import annotations

import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RuamelError

from infra.config import PROJECT, ConfigError
from infra.config.kubernetes import KubernetesWorkloadConfig
from infra.config.loader import PER_MODEL_MONITORING
from mlstack.models.stack_file import StackEditError, stack_config, write_atomically
from mlstack.offline.stack_files import StackFileError, load_project


def _key(name: str) -> str:
    return f"{PROJECT}:{name}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def migrated_text(text: str, path: Path, stack: str, model: str) -> str:
    """``text`` (a single-model stack file) with its model moved to ``mlstack:models.<model>``.

    Raises :class:`StackEditError` when the file already has ``mlstack:models`` or cannot
    be read."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        doc = yaml.load(text)
    except RuamelError as err:
        raise StackEditError(f"{path}: not valid YAML: {err}") from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, CommentedMap):
        raise StackEditError(f"{path}: expected a mapping with a 'config' key")
    if _key("models") in config:
        raise StackEditError(f"{path}: {_key('models')} is already set; nothing to migrate")

    entry = CommentedMap()
    entry["legacyNames"] = True
    sagemaker = config.get(_key("sagemaker"))
    eks = config.get(_key("eks"))
    targets = CommentedSeq()
    if not isinstance(sagemaker, dict) or sagemaker.get("enabled", True):
        targets.append("sagemaker")
    if isinstance(eks, dict) and eks.get("enabled", False):
        targets.append("eks")
    if not targets:
        raise StackEditError(f"{path}: neither sagemaker nor eks is enabled: no model to move")
    targets.fa.set_flow_style()
    entry["targets"] = targets
    for key, value in (config.get(_key("model")) or {}).items():
        entry[key] = value
    if isinstance(sagemaker, dict):
        sagemaker.pop("enabled", None)
        if sagemaker:
            entry["sagemaker"] = sagemaker
    for section in ("rollout", "autoscaling"):
        if config.get(_key(section)) is not None:
            entry[section] = config[_key(section)]
    monitoring = config.get(_key("monitoring"))
    if isinstance(monitoring, dict):
        for key, per_model in PER_MODEL_MONITORING.items():
            if key in monitoring:
                entry[per_model] = monitoring.pop(key)
    kubernetes = config.get(_key("kubernetes"))
    if isinstance(kubernetes, dict):
        workload = CommentedMap()
        for field in KubernetesWorkloadConfig.model_fields:
            if _camel(field) in kubernetes:
                workload[_camel(field)] = kubernetes.pop(_camel(field))
        if workload:
            entry["kubernetes"] = workload
        if not kubernetes:
            del config[_key("kubernetes")]
    if isinstance(monitoring, dict) and not monitoring:
        del config[_key("monitoring")]

    keys = list(config)
    position = next(
        (keys.index(_key(k)) for k in ("model", "sagemaker") if _key(k) in keys), len(keys)
    )
    for section in ("model", "sagemaker", "rollout", "autoscaling"):
        if _key(section) in config:
            del config[_key(section)]
    models = CommentedMap()
    models[model] = entry
    config.insert(min(position, len(config)), _key("models"), models)
    out = io.StringIO()
    yaml.dump(doc, out)
    return _indent_comments(out.getvalue())


def _indent_comments(text: str) -> str:
    """Comment lines at the indentation of the line they describe (ruamel keeps a moved
    comment at its old column)."""
    lines = text.splitlines(keepends=True)
    indent = 0
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].lstrip(" ")
        if stripped.startswith("#"):
            lines[index] = " " * indent + stripped
        elif stripped.strip():
            indent = len(lines[index]) - len(stripped)
    return "".join(lines)


def migrate_stack(project_root: Path, stack: str, model: str | None = None) -> tuple[Path, str]:
    """Migrate ``stack``'s file in place; returns its path and the model's name (default:
    the name the single-model stack's model goes by, its package group's). The result is
    validated first: an invalid result is not written (:class:`StackEditError`)."""
    try:
        path = load_project(project_root).stack_file(stack)
    except StackFileError as err:
        raise StackEditError(str(err)) from None
    if not path.exists():
        raise StackEditError(f"no stack '{stack}': {path} does not exist")
    text = path.read_text(encoding="utf-8")
    name = model or stack_config(project_root, stack, text).single_model_name
    new = migrated_text(text, path, stack, name)
    try:
        stack_config(project_root, stack, new)
    except ConfigError as err:
        raise StackEditError(f"{path}: the migrated file would not validate:\n{err}") from None
    write_atomically(path, new)
    return path, name
