"""Config errors: every problem of a stack file as a short, two-line block in words.

Each block names the stack file, the key path (``mlstack:rollout.stepPercent``), the bad
value and what is allowed::

    stacks/Pulumi.production.yaml: mlstack:rollout.stepPercent = 80
      a canary is 1-50 percent of the fleet
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from infra.config.types import FieldError, FieldErrors

PROJECT = "mlstack"
"""The project name and config namespace: keys without a namespace belong to it."""

STACK_CONFIG_DIR = "stacks"

NO_VALUE: Any = object()
"""A problem that has no single value to show (an unknown key, a missing setting)."""


def stack_file(stack: str) -> str:
    """The stack file path as users see it, relative to the project root."""
    return f"{STACK_CONFIG_DIR}/Pulumi.{stack}.yaml"


def render_value(value: Any) -> str:
    """A value as YAML-minded JSON, non-ASCII letters as written, cut at 60 characters."""
    if isinstance(value, Enum):
        value = value.value
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a stack file."""

    key: str
    """Full key path, namespace included: ``mlstack:rollout.stepPercent``."""
    allowed: str
    """What is allowed or what to do, in words."""
    value: Any = NO_VALUE
    headline: str = ""
    """Replaces `` = <value>`` on the first line (e.g. ``unknown key``)."""

    def render(self, stack: str) -> str:
        if self.value is NO_VALUE:
            first = f"{stack_file(stack)}: {self.key}" + (
                f": {self.headline}" if self.headline else " is not set"
            )
        else:
            first = f"{stack_file(stack)}: {self.key} = {render_value(self.value)}"
        return f"{first}\n  {self.allowed}"


class ConfigError(pulumi.RunError):
    """Stack config values are missing or wrong. The message is short and user-facing: one
    two-line block per problem.

    A ``RunError``, so that ``pulumi up`` prints the message without a traceback."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def of(cls, stack: str, problems: Sequence[Problem]) -> ConfigError:
        return cls("\n".join(p.render(stack) for p in problems), problems)


def project_key(path: str) -> str:
    return f"{PROJECT}:{path}"


def unknown_key(key: str, known: Iterable[str], *, prefix: str = "") -> Problem:
    """An unknown key, with a "did you mean" hint from the keys its owner knows."""
    known = list(known)
    name = key.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    guess = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{prefix}{guess[0]}'? " if guess else ""
    return Problem(
        key=key, headline="unknown key", allowed=f"{hint}allowed keys: {', '.join(known)}"
    )


# ---------------------------------------------------------------------------------------------
# pydantic errors in words
# ---------------------------------------------------------------------------------------------


def _aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the last element of ``loc`` (used for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None or isinstance(part, int):
            continue
        field = next(
            (f for n, f in current.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current


def _path(section: str, loc: Iterable[Any]) -> str:
    parts = [section] if section else []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        elif not str(part).startswith("function-"):
            parts.append(str(part))
    return ".".join(parts)


def _type_advice(kind: str, value: Any) -> str | None:
    """What to do when YAML gave a value the wrong type: quote it, or drop the quotes."""
    if kind == "string_type" and isinstance(value, (int, float, bool)):
        return f'a string: quote it, "{render_value(value)}"'
    if isinstance(value, str):
        text = value.strip()
        if kind in ("int_type", "int_parsing") and text.lstrip("-").isdigit():
            return f"a whole number (integer): remove the quotes, {text}"
        if kind in ("float_type", "float_parsing"):
            try:
                float(text)
            except ValueError:
                return None
            return f"a number: remove the quotes, {text}"
        if kind == "bool_type" and text.lower() in ("true", "false"):
            return f"true or false: remove the quotes, {text.lower()}"
    return None


OBJECT_WORDS = "an object: a mapping of keys (indented key: value lines)"
_WORDS = {
    "int_type": "a whole number (integer)",
    "int_parsing": "a whole number (integer)",
    "int_from_float": "a whole number (integer)",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list (YAML lines starting with '- ')",
    "dict_type": OBJECT_WORDS,
    "model_type": OBJECT_WORDS,
    "missing": "required: set it",
}


def translate(section: str, model: type[BaseModel], err: ValidationError) -> list[Problem]:
    """Every pydantic error of ``model`` (validated as config key ``section``) in words."""
    problems: list[Problem] = []
    for detail in err.errors(include_url=False):
        loc = tuple(detail["loc"])
        path = _path(section, loc)
        ctx_error = (detail.get("ctx") or {}).get("error")
        if isinstance(ctx_error, FieldErrors | FieldError):
            inner = ctx_error.errors if isinstance(ctx_error, FieldErrors) else [ctx_error]
            problems.extend(
                Problem(
                    key=project_key(".".join(p for p in (path, e.path) if p)),
                    value=e.value,
                    allowed=e.allowed,
                )
                for e in inner
            )
            continue
        kind = detail["type"]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc)
            problems.append(unknown_key(project_key(path), _aliases(owner) if owner else []))
            continue
        value = detail.get("input", NO_VALUE) if kind != "missing" else NO_VALUE
        ctx = detail.get("ctx") or {}
        if kind == "too_long":
            value = f"{len(value)} entries" if isinstance(value, list) else value
        allowed = _type_advice(kind, value) or _WORDS.get(kind)
        if kind == "too_long":
            allowed = f"at most {ctx.get('max_length')} entries"
        if allowed is None:
            allowed = str(detail["msg"]).removeprefix("Value error, ")
        problems.append(Problem(key=project_key(path), value=value, allowed=allowed))
    return problems
