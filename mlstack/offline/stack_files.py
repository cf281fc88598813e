"""Read ``Pulumi.yaml`` and ``stacks/Pulumi.<stack>.yaml`` and encode config as the CLI does.

The Pulumi CLI hands a Python program its config as a flat map of ``namespace:key`` to
string, and a list of the keys that hold secrets. This module reproduces that encoding:

- keys without a namespace get the project's (``mlstack:``);
- strings stay as they are, booleans become ``"true"``/``"false"``, numbers their decimal text;
- objects and lists become JSON strings (compact, keys sorted, as Go's encoder writes them);
- ``secure:`` values, which only the CLI can decrypt, become :data:`SECRET_PLACEHOLDER`, or
  the keyed fingerprint of their ciphertext when a fingerprint function is given, and their
  keys are listed as secret (an object holding one is secret as a whole);
- project-level defaults declared under ``config:`` in ``Pulumi.yaml`` apply to every stack
  that does not set the key itself.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config.types import SECRET_PLACEHOLDER


class StackFileError(Exception):
    """A project or stack file is missing or is not valid YAML of the expected shape."""


@dataclass(frozen=True)
class Project:
    """The parts of ``Pulumi.yaml`` the offline plan needs."""

    root: Path
    name: str
    main: Path
    stack_config_dir: Path
    config_defaults: dict[str, Any]

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        """Stack names with a file in the stack config directory, sorted."""
        names = [
            p.name[len("Pulumi.") : -len(".yaml")]
            for p in self.stack_config_dir.glob("Pulumi.*.yaml")
        ]
        return sorted(names)


@dataclass(frozen=True)
class EncodedConfig:
    """Config as the language host receives it."""

    values: dict[str, str]
    secret_keys: list[str]


STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
"""Top-level keys the Pulumi CLI reads from a stack file."""


class DuplicateKeyError(yaml.YAMLError):
    """A mapping gives the same key twice: YAML keeps the last, silently."""

    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"line {line}: key '{key}' is given twice")
        self.key = key
        self.line = line


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_text(text: str, path: Path) -> Any:
    """Parse a project or stack file; a key given twice is an error, not the last one wins.

    Raises :class:`StackFileError` naming the file and line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except DuplicateKeyError as err:
        raise StackFileError(
            f"{path}: line {err.line}: '{err.key}' is given twice\n"
            "  keep one: YAML would silently use the last"
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise StackFileError(
            f"{path}:{where}: not valid YAML ({getattr(err, 'problem', err)})"
        ) from None


def _read_yaml(path: Path) -> Any:
    try:
        return load_yaml_text(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        raise StackFileError(f"{path}: file not found") from None


def load_project(root: Path) -> Project:
    """Load ``root/Pulumi.yaml``."""
    path = root / "Pulumi.yaml"
    doc = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise StackFileError(f"{path}: expected a mapping with a 'name'")
    defaults: dict[str, Any] = {}
    for key, decl in (doc.get("config") or {}).items():
        if isinstance(decl, dict):
            if "default" in decl:
                defaults[key] = decl["default"]
            elif "value" in decl:
                defaults[key] = decl["value"]
        else:
            defaults[key] = decl
    return Project(
        root=root,
        name=doc["name"],
        main=(root / doc.get("main", ".")).resolve(),
        stack_config_dir=(root / doc.get("stackConfigDir", ".")).resolve(),
        config_defaults=defaults,
    )


def load_stack_doc(project: Project, stack: str) -> dict[str, Any]:
    """The ``config:`` mapping of a stack file (empty when the file has none)."""
    path = project.stack_file(stack)
    if not path.exists():
        known = ", ".join(project.stacks()) or "none"
        raise StackFileError(f"no stack '{stack}': {path} does not exist (stacks: {known})")
    return stack_config_of(_read_yaml(path), path)


def stack_config_of(doc: Any, path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a parsed stack file, or a :class:`StackFileError` saying
    what the file should look like (empty file, list, unknown top-level key)."""
    if doc is None or doc == {}:
        raise StackFileError(
            f"{path}: the file is empty\n"
            "  a stack file starts with config: and sets aws:region, mlstack:environment, ..."
        )
    if not isinstance(doc, dict):
        raise StackFileError(f"{path}: expected a mapping with a 'config' key")
    for key in doc:
        if key not in STACK_FILE_KEYS:
            guess = difflib.get_close_matches(str(key), STACK_FILE_KEYS, n=1)
            hint = f"did you mean '{guess[0]}'? " if guess else ""
            raise StackFileError(
                f"{path}: {key}: unknown top-level key\n  {hint}settings go under config:"
            )
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: config: must be a mapping of key to value")
    return config


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _holds_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return True
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def _strip_secrets(value: Any, placeholder: Callable[[Any], str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return placeholder(value["secure"])
        return {k: _strip_secrets(v, placeholder) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_secrets(v, placeholder) for v in value]
    return value


def decode_object(encoded: str | None) -> dict[str, Any]:
    """An object config value from its CLI encoding; ``{}`` when unset or not an object."""
    if not encoded:
        return {}
    try:
        value = json.loads(encoded)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def encode_value(value: Any) -> str:
    """One config value in the CLI's string encoding (secrets already replaced)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if value is None:
        return ""
    return str(value)


def encode_config(
    project: Project,
    stack_config: dict[str, Any],
    ciphertext_placeholder: Callable[[Any], str] | None = None,
) -> EncodedConfig:
    """Merge project defaults with a stack's config and encode both as the CLI does.

    A ``secure:`` value becomes ``ciphertext_placeholder(<ciphertext>)``; default
    :data:`SECRET_PLACEHOLDER` for every one."""
    placeholder = ciphertext_placeholder or (lambda _: SECRET_PLACEHOLDER)
    merged: dict[str, Any] = {
        _full_key(project.name, k): v for k, v in project.config_defaults.items()
    }
    merged.update({_full_key(project.name, str(k)): v for k, v in stack_config.items()})
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in merged.items():
        if _holds_secret(value):
            secret_keys.append(key)
        values[key] = encode_value(_strip_secrets(value, placeholder))
    return EncodedConfig(values=values, secret_keys=sorted(secret_keys))
