"""The README's config reference and the stack files' JSON Schema are generated from the
models (``make config-docs``): stale copies, a split table or an undocumented key fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import yaml
from markdown_it import MarkdownIt

from infra.config.reference import (
    END,
    MODELINE,
    README,
    SCHEMA,
    START,
    readme_with_reference,
    reference_rows,
    schema_text,
    stack_file_schema,
)
from tests.conftest import SHIPPED_STACKS

STACKS = README.parent / "stacks"


def _section(text: str) -> str:
    return text[text.index(START) + len(START) : text.index(END)]


FREE_FORM_MAPS = (":tags", "retraining.hyperparameters", "explainability.watchedFeatures")
"""Keys whose value maps names the user chooses (documented as one key)."""


def _keys(prefix: str, value: Any) -> Iterator[str]:
    """Every key path a stack file sets, lists of objects as ``key[].field``."""
    yield prefix
    if isinstance(value, dict) and not prefix.endswith(FREE_FORM_MAPS):
        for key, inner in value.items():
            yield from _keys(f"{prefix}.{key}", inner)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                for key, inner in item.items():
                    yield from _keys(f"{prefix}[].{key}", inner)


def _doc(stack: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())


def test_readme_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert text == readme_with_reference(text), "README config reference is stale: make config-docs"


def test_schema_is_current() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), "schema stale: make config-docs"


def test_reference_renders_as_one_table() -> None:
    tokens = MarkdownIt().enable("table").parse(_section(README.read_text(encoding="utf-8")))
    tables = [t for t in tokens if t.type == "table_open"]
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(tables) == 1, "a blank line or a stray row splits the table"
    assert len(rows) == len(reference_rows()) + 1  # the header row


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_key_of_the_shipped_stacks_is_documented(stack: str) -> None:
    documented = {key for key, *_ in reference_rows()}
    used = {k for key, value in _doc(stack)["config"].items() for k in _keys(key, value)}
    leaves = {k for k in used if not any(other.startswith(f"{k}.") for other in used)}
    assert leaves - documented == set()
    assert "mlstack:kubernetes.targetCpuUtilizationPercent" in documented


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_stack_files_name_the_schema_and_match_it(stack: str) -> None:
    text = (STACKS / f"Pulumi.{stack}.yaml").read_text()
    assert text.splitlines()[0] == MODELINE
    jsonschema.validate(_doc(stack), stack_file_schema())


def test_schema_catches_a_misspelt_key_and_allows_secret_webhooks() -> None:
    jsonschema.Draft202012Validator.check_schema(stack_file_schema())
    doc = _doc("production")
    doc["config"]["mlstack:rollout"]["stepPercnt"] = 10
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, stack_file_schema())
    doc = _doc("production")
    doc["config"]["mlstack:monitoring"]["httpsSubscriptions"] = [{"secure": "v1:abc"}]
    jsonschema.validate(doc, stack_file_schema())
    assert json.loads(schema_text()) == stack_file_schema()
