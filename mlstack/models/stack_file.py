"""A stack file read for a rewrite, and the generic, comment-keeping rewrite of its scalars.

A rewrite is a list of :class:`Edit` (a key path under ``config`` and a new scalar value).
:func:`apply_edits` changes only the characters of each value (comments, order, quoting and
indentation stay byte-for-byte; a missing key is added as one line at the end of its block
mapping), re-parses the result and checks that nothing else changed.
:func:`replace_if_unchanged` writes it atomically (temporary file in the same directory,
fsync, ``os.replace``) under a lock on the stack directory, and only when the file still
holds the text the edits were computed from, so two concurrent rewrites cannot both win.
Which keys a promotion writes is decided in :mod:`mlstack.models.promotion`.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from infra.config import PROJECT, ConfigError, StackConfig, build_config
from infra.config.stack import ServedModel
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
Scalar = int | str
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML has it (30 times faster than a pure-Python one): each edit
composes the file anew. Its marks count characters, as the splices do."""


class StackEditError(Exception):
    """The stack file cannot be read or rewritten; the message names the file and key."""


class StackChangedError(StackEditError):
    """The stack file changed between reading it and writing the rewrite."""


@dataclass(frozen=True)
class Edit:
    """Set the scalar at ``key_path`` under ``config`` (``("mlstack:model", "packageVersion")``)."""

    key_path: tuple[str, ...]
    value: Scalar

    @property
    def key(self) -> str:
        """The key as messages and docs name it: ``mlstack:model.packageVersion``."""
        return ".".join(self.key_path)


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


@dataclass(frozen=True)
class StackFile:
    """A stack file as read for a rewrite: its path, exact text and validated config."""

    path: Path
    stack: str
    text: str
    config: StackConfig

    @property
    def model(self) -> StackModel:
        """The model of a single-model stack."""
        return self.model_of(None)

    def served(self, model: str | None) -> ServedModel | None:
        """The model named ``model`` of a stack of many models; None for a single-model
        stack (``model`` None). Raises :class:`StackEditError` naming the models otherwise."""
        config = self.config
        if not config.models and model is None:
            return None
        if model is None or model not in config.models:
            names = ", ".join(config.models) or "none: it serves mlstack:model, name no model"
            wanted = "name a model" if model is None else f"no model {model!r}"
            raise StackEditError(f"{self.path}: {wanted} of {MODELS_KEY} ({names})")
        return next(m for m in config.served_models() if m.name == model)

    def model_of(self, model: str | None) -> StackModel:
        """The model ``model`` (None in a single-model stack): group, version, endpoint."""
        served = self.served(model)
        if served is None:
            return StackModel(
                path=self.path,
                stack=self.stack,
                region=self.config.region,
                group=self.config.model_package_group_name,
                version=self.config.model.package_version,
            )
        settings = served.settings
        endpoint = served.view.endpoint_name if settings.on_sagemaker else None
        return StackModel(
            path=self.path,
            stack=self.stack,
            region=self.config.region,
            group=served.view.model_package_group_name,
            version=settings.package_version,
            endpoint_name=endpoint,
            # The program names a model's inference component <fleet endpoint>-<model>.
            inference_component=f"{endpoint}-{model}" if served.fleet is not None else None,
        )


def read_text(path: Path) -> str:
    """The file's text as UTF-8; a short error naming the file otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StackEditError(f"{path} does not exist") from None
    except OSError as err:
        raise StackEditError(f"{path}: cannot be read ({err.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise StackEditError(
            f"{path}: line {line}: byte 0x{data[err.start]:02x} is not UTF-8; stack files are "
            "UTF-8 text: re-save the file as UTF-8"
        ) from None


def _stack_path(project_root: Path, stack: str) -> Path:
    try:
        path = load_project(project_root).stack_file(stack)
    except StackFileError as err:
        raise StackEditError(str(err)) from None
    if not path.exists() and not path.is_symlink():
        raise StackEditError(f"no stack '{stack}': {path} does not exist")
    return path


def read_stack(project_root: Path, stack: str, rewrite: bool = False) -> StackFile:
    """``stack``'s file, validated as a plan would validate it.

    With ``rewrite``, the file must be a regular file, not a symbolic link: a rewrite
    replaces the file, which would turn a link into a copy and leave its target as it was."""
    path = _stack_path(project_root, stack)
    if rewrite:
        check_rewritable(path)
    text = read_text(path)
    return StackFile(path, stack, text, stack_config(project_root, stack, text))


def read_stack_model(project_root: Path, stack: str, model: str | None = None) -> StackModel:
    """The model group, version and region of ``stack``'s file, as the program resolves
    them (the file is validated first; its defaults come from the config package). A stack
    of many models (``mlstack:models``) needs ``model``, the name of one of them."""
    return read_stack(project_root, stack).model_of(model)


def check_rewritable(path: Path) -> None:
    """Refuse a stack file that a rewrite would damage: a symbolic link or not a file."""
    if path.is_symlink():
        raise StackEditError(
            f"{path} is a symbolic link (to {os.readlink(path)}); it is rewritten only as a "
            "regular file, so the link is left alone: edit the file it points to, or replace "
            "the link with that file"
        )
    if not path.is_file():
        raise StackEditError(f"{path} is not a regular file")


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


# --- the rewrite -----------------------------------------------------------------------------


def _entries(node: MappingNode) -> Iterator[tuple[str, Node]]:
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            yield str(key.value), value


def _child(node: Node, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    return next((value for name, value in _entries(node) if name == key), None)


def _last_line_end(node: Node, text: str) -> int:
    """The index just past the line that holds ``node``'s last scalar."""
    while isinstance(node, MappingNode) and node.value:
        node = node.value[-1][1]
    newline = text.find("\n", node.end_mark.index)
    return len(text) if newline < 0 else newline + 1


def render(value: Scalar, style: str | None = None) -> str:
    """``value`` as a YAML scalar: plain where YAML reads it back unchanged, else quoted
    (in the style the value had, when it was quoted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style != '"':
        try:
            if yaml.safe_load(f"k: {text}") == {"k": text} and "#" not in text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def _parse(text: str, path: Path) -> Any:
    try:
        return yaml.compose(text, Loader=_COMPOSER)
    except yaml.YAMLError as err:
        raise StackEditError(f"{path}: not valid YAML ({err})") from None


def _splice(text: str, path: Path, edit: Edit) -> str:
    """``text`` with one edit applied in place."""
    node: Node | None = _parse(text, path)
    config = _child(node, "config") if node is not None else None
    if not isinstance(config, MappingNode):
        raise StackEditError(f"{path}: expected a mapping with a 'config' key")
    parent: Node = config
    for depth, key in enumerate(edit.key_path[:-1]):
        child = _child(parent, key)
        if not isinstance(child, MappingNode):
            where = ".".join(edit.key_path[: depth + 1])
            raise StackEditError(
                f"{path}: {where} is not a mapping; cannot set {edit.key}: add it by hand"
            )
        parent = child
    assert isinstance(parent, MappingNode)
    leaf = edit.key_path[-1]
    current = _child(parent, leaf)
    if current is not None:
        if not isinstance(current, ScalarNode):
            raise StackEditError(f"{path}: {edit.key} is not a single value")
        start, end = current.start_mark.index, current.end_mark.index
        return text[:start] + render(edit.value, current.style) + text[end:]
    if parent.flow_style or not parent.value:
        raise StackEditError(
            f"{path}: {edit.key} is not set and {'.'.join(edit.key_path[:-1])} is written "
            f"inline: add '{leaf}: {render(edit.value)}' by hand"
        )
    first_key = parent.value[0][0]
    at = _last_line_end(parent, text)
    newline = "\r\n" if "\r\n" in text else "\n"
    if at == len(text) and not text.endswith("\n"):
        text += newline
        at = len(text)
    line = f"{' ' * first_key.start_mark.column}{leaf}: {render(edit.value)}{newline}"
    return text[:at] + line + text[at:]


def _expected(text: str, edits: Sequence[Edit]) -> Any:
    document = yaml.safe_load(text)
    for edit in edits:
        target = document["config"]
        for key in edit.key_path[:-1]:
            target = target[key]
        target[edit.key_path[-1]] = edit.value
    return document


def apply_edits(text: str, path: Path, edits: Sequence[Edit]) -> str:
    """``text`` with every edit applied and nothing else changed.

    Raises :class:`StackEditError` when a key cannot be rewritten in place (a section written
    inline, a list where a mapping is expected) or the result would differ elsewhere."""
    new_text = text
    for edit in edits:
        new_text = _splice(new_text, path, edit)
    try:
        unchanged = yaml.safe_load(new_text) == _expected(text, edits)
    except (yaml.YAMLError, KeyError, TypeError):
        unchanged = False
    if not unchanged:
        keys = ", ".join(e.key for e in edits)
        raise StackEditError(f"{path}: rewriting {keys} would change other values")
    return new_text


def promoted_text(text: str, path: Path, version: int, model_name: str | None = None) -> str:
    """``text`` with ``mlstack:model.packageVersion`` (or, with ``model_name``,
    ``mlstack:models.<model_name>.packageVersion``) set to ``version``, nothing else changed."""
    key_path = (MODEL_KEY,) if model_name is None else (MODELS_KEY, model_name)
    try:
        model: Any = (yaml.safe_load(text) or {}).get("config", {})
        for key in key_path:
            model = model.get(key)
    except (yaml.YAMLError, AttributeError):
        model = None
    shown = ".".join(key_path)
    if not isinstance(model, dict) or VERSION_FIELD not in model:
        raise StackEditError(
            f"{path}: {shown}.{VERSION_FIELD} is not set\n"
            f"  promote moves a stack between registry versions; add {VERSION_FIELD} first"
        )
    if not isinstance(model[VERSION_FIELD], int) or isinstance(model[VERSION_FIELD], bool):
        raise StackEditError(f"{path}: {shown}.{VERSION_FIELD} must be an integer")
    return apply_edits(text, path, [Edit((*key_path, VERSION_FIELD), version)])


# --- the write -------------------------------------------------------------------------------


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never half.

    The file keeps its permission bits; a symbolic link is refused, never replaced."""
    check_rewritable(path)
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


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (flock), held by one rewrite at a time."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def replace_if_unchanged(path: Path, old_text: str, new_text: str) -> None:
    """Write ``new_text`` atomically if ``path`` still holds ``old_text`` (compare and swap
    under a lock on the stack directory). Raises :class:`StackChangedError` otherwise."""
    with _directory_lock(path.parent):
        if read_text(path) != old_text:
            raise StackChangedError(
                f"{path} changed since it was read (another promotion or edit): nothing "
                "written; run the command again on the current file"
            )
        write_atomically(path, new_text)


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
