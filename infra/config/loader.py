"""Loading: raw stack config (as the Pulumi CLI encodes it) to a validated StackConfig.

``load_stack_config`` is what the program calls; ``build_config`` and ``build_stack_config``
do the same from a plain mapping, for the offline plan, the model tooling and tests. Every
problem of a file is collected and reported at once in a :class:`ConfigError`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from infra.config.autoscaling import AutoscalingConfig
from infra.config.eks import EksConfig
from infra.config.errors import (
    NO_VALUE,
    OBJECT_WORDS,
    PROJECT,
    ConfigError,
    Problem,
    project_key,
    translate,
    unknown_key,
)
from infra.config.kubernetes import KubernetesServingConfig, KubernetesWorkloadConfig
from infra.config.model import ModelConfig
from infra.config.models import FleetConfig, ModelSettings, deep_merge, resolve_names
from infra.config.monitoring import MonitoringConfig
from infra.config.network import NetworkConfig
from infra.config.policy import PolicyConfig
from infra.config.registry import RegistryConfig
from infra.config.rollout import RolloutPolicy
from infra.config.sagemaker import SageMakerConfig
from infra.config.stack import Environment, StackConfig
from infra.config.types import NOT_A_SECRET, SECRET_KEYS, Section

OBJECT_SECTIONS: dict[str, type[Section]] = {
    "tags": Section,  # placeholder: a plain string map, validated by StackConfig
    "registry": RegistryConfig,
    "sagemaker": SageMakerConfig,
    "rollout": RolloutPolicy,
    "model": ModelConfig,
    "autoscaling": AutoscalingConfig,
    "monitoring": MonitoringConfig,
    "policy": PolicyConfig,
    "network": NetworkConfig,
    "eks": EksConfig,
    "kubernetes": KubernetesServingConfig,
}
"""Object sections: the config key (camelCase, without namespace) and its model."""
SCALAR_KEYS = ("environment", "owner", "accountId")
MODEL_KEYS = ("models", "modelDefaults", "fleets")
"""Keys of a stack of many models (``infra/config/models.py``)."""
PER_MODEL_SECTIONS = ("model", "sagemaker", "rollout", "autoscaling")
"""Single-model keys that live per model (or in modelDefaults) in a stack of models."""
PER_MODEL_MONITORING = {"alarms": "alarms", "drift": "drift"}
"""Keys of ``mlstack:monitoring`` that live per model in a stack of models."""
KNOWN_KEYS = (*SCALAR_KEYS, *OBJECT_SECTIONS, *MODEL_KEYS)
OTHER_NAMESPACES = ("aws", "pulumi")
"""Namespaces besides the project's that a stack file may use (the AWS provider, Pulumi)."""
_SECRET_SECTIONS = {key.split(".")[0] for key in SECRET_KEYS}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw  # a plain string: reported as the wrong type


def _unknown_top_level(key: str) -> Problem:
    section, _, rest = key.partition(".")
    if rest and section in OBJECT_SECTIONS:
        field = rest.split(".")[0]
        return Problem(
            key=project_key(key),
            headline="unknown key",
            allowed=f"nest it: {project_key(section)}: on one line, then {field}: indented below",
        )
    return unknown_key(project_key(key), KNOWN_KEYS, prefix=f"{PROJECT}:")


def _section_data(key: str, raw: str | None) -> tuple[Any, Problem | None]:
    if raw is None:
        return {}, None
    data = _decode(raw)
    if isinstance(data, Mapping):
        return data, None
    if isinstance(data, list):
        allowed = "a section is a mapping of keys, not a list: remove the '- ' before its keys"
    else:
        allowed = OBJECT_WORDS
    return None, Problem(key=project_key(key), value=data, allowed=allowed)


def _region_problem(region: str | None) -> Problem | None:
    """``aws:region`` unset; a set but wrong region is reported by the root model."""
    if region:
        return None
    return Problem(key="aws:region", allowed="set it, e.g. aws:region: us-east-1")


def build_stack_config(
    stack: str,
    raw: Mapping[str, str | None],
    region: str | None,
    secret_keys: Collection[str] = (),
) -> StackConfig:
    """Validate raw config values (key without namespace -> the CLI's string encoding).

    ``secret_keys`` are the keys (without namespace) given as ``secure:`` values. Raises
    :class:`ConfigError` listing every problem found.
    """
    problems: list[Problem] = []
    problems += [_unknown_top_level(k) for k in raw if k not in KNOWN_KEYS and raw[k] is not None]
    problems += [
        Problem(key=project_key(k), headline="a secure: value", allowed=NOT_A_SECRET)
        for k in sorted(secret_keys)
        if k in KNOWN_KEYS and k not in _SECRET_SECTIONS
    ]
    region_problem = _region_problem(region)
    if region_problem:
        problems.append(region_problem)
    environment = raw.get("environment")
    if environment not in {e.value for e in Environment}:
        problems.append(
            Problem(
                key=project_key("environment"),
                value=environment if environment is not None else NO_VALUE,
                allowed="one of: " + ", ".join(e.value for e in Environment),
            )
        )
    context = {"environment": environment}
    sections: dict[str, Any] = {}
    failed: set[str] = set()
    for key, model in OBJECT_SECTIONS.items():
        data, problem = _section_data(key, raw.get(key))
        if problem is not None:
            problems.append(problem)
            failed.add(key)
        elif key == "tags":
            sections[key] = data
        else:
            try:
                sections[key] = model.model_validate_json(json.dumps(data), context=context)
            except ValidationError as err:
                problems += translate(key, model, err)
                failed.add(key)
    model_sections, model_problems = _model_sections(stack, raw, context)
    problems += model_problems
    if model_problems:
        failed.add("models")
    sections.update(model_sections)
    scalars = {"owner": raw.get("owner"), "account_id": raw.get("accountId")}
    scalars = {k: v for k, v in scalars.items() if v is not None}
    try:
        config = StackConfig.model_validate(
            {
                "stack": stack,
                # An unknown environment is reported above; the other rules still run.
                "environment": Environment(environment)
                if environment in {e.value for e in Environment}
                else Environment.STAGING,
                "region": region or "",
                **scalars,
                **{k: v for k, v in sections.items() if k not in failed},
            },
            # Rules across sections would judge a failed section's defaults: they run once
            # every section is valid.
            context={**context, "sections_valid": not failed},
        )
    except ValidationError as err:
        problems += _root_problems(err, failed)
    else:
        if not problems:
            return config
    raise ConfigError.of(stack, _without_duplicates(_precise_secrets(problems)))


def _model_sections(
    stack: str, raw: Mapping[str, str | None], context: dict[str, Any]
) -> tuple[dict[str, Any], list[Problem]]:
    """``mlstack:models`` merged over ``mlstack:modelDefaults`` and validated one model at a
    time, and ``mlstack:fleets``; with models, the single-model keys they replace are
    refused, naming where each goes."""
    if raw.get("models") is None:
        problems = [
            Problem(
                key=project_key(key),
                headline="needs mlstack:models",
                allowed="modelDefaults and fleets serve the models of mlstack:models",
            )
            for key in ("modelDefaults", "fleets")
            if raw.get(key) is not None
        ]
        return {}, problems
    problems: list[Problem] = []
    for key in PER_MODEL_SECTIONS:
        if raw.get(key) is not None:
            target = "each model's own keys" if key == "model" else f"{key}:"
            problems.append(
                Problem(
                    key=project_key(key),
                    headline="per model in a stack of models",
                    allowed=f"move it into mlstack:modelDefaults (or mlstack:models.<name>) as "
                    f"{target}",
                )
            )
    monitoring, _ = _section_data("monitoring", raw.get("monitoring"))
    for key, per_model in PER_MODEL_MONITORING.items():
        if isinstance(monitoring, Mapping) and key in monitoring:
            problems.append(
                Problem(
                    key=project_key(f"monitoring.{key}"),
                    headline="per model in a stack of models",
                    allowed=f"move it to mlstack:modelDefaults.{per_model}",
                )
            )
    kubernetes, _ = _section_data("kubernetes", raw.get("kubernetes"))
    workload = set(KubernetesWorkloadConfig.model_fields)
    for key in kubernetes or {}:
        if key in {to_camel(f) for f in workload}:
            problems.append(
                Problem(
                    key=project_key(f"kubernetes.{key}"),
                    headline="per model in a stack of models",
                    allowed=f"move it to mlstack:modelDefaults.kubernetes.{key}",
                )
            )

    sections: dict[str, Any] = {}
    defaults, problem = _section_data("modelDefaults", raw.get("modelDefaults"))
    if problem is not None:
        return {}, [*problems, problem]
    try:
        sections["model_defaults"] = ModelSettings.model_validate_json(
            json.dumps(defaults), context=context
        )
    except ValidationError as err:
        # Every model would repeat the defaults' problems: report them once, here.
        return {}, [*problems, *translate("modelDefaults", ModelSettings, err)]

    fleets, problem = _section_data("fleets", raw.get("fleets"))
    if problem is not None:
        problems.append(problem)
        fleets = {}
    sections["fleets"] = {}
    for name, entry in fleets.items():
        data = dict(entry) if isinstance(entry, Mapping) else entry
        if isinstance(data, dict):
            data.setdefault("endpointName", f"{PROJECT}-{stack}-{name}")
        problems += _label_problem("fleets", name)
        try:
            sections["fleets"][name] = FleetConfig.model_validate_json(
                json.dumps(data), context=context
            )
        except ValidationError as err:
            problems += translate(f"fleets.{name}", FleetConfig, err)

    models, problem = _section_data("models", raw.get("models"))
    if problem is not None:
        return sections, [*problems, problem]
    if not models:
        problems.append(
            Problem(key=project_key("models"), allowed="at least one model: name: {settings}")
        )
    sections["models"] = {}
    for name, entry in models.items():
        problems += _label_problem("models", name)
        if not isinstance(entry, Mapping):
            problems.append(
                Problem(key=project_key(f"models.{name}"), value=entry, allowed=OBJECT_WORDS)
            )
            continue
        merged = resolve_names(stack, name, deep_merge(defaults, entry), PROJECT)
        try:
            sections["models"][name] = ModelSettings.model_validate_json(
                json.dumps(merged), context=context
            )
        except ValidationError as err:
            problems += translate(f"models.{name}", ModelSettings, err)
    return sections, problems


def _label_problem(key: str, name: str) -> list[Problem]:
    if _DNS_LABEL.fullmatch(str(name)):
        return []
    return [
        Problem(
            key=project_key(f"{key}.{name}"),
            headline="not a name",
            allowed="1-40 lower-case letters, digits and hyphens (it names resources)",
        )
    ]


def _precise_secrets(problems: list[Problem]) -> list[Problem]:
    """Drop "this section holds a secret" when the problem names the key inside it."""
    nested = {p.key.split(".")[0] for p in problems if "." in p.key and p.allowed == NOT_A_SECRET}
    return [p for p in problems if not (p.key in nested and p.allowed == NOT_A_SECRET)]


def _root_problems(err: ValidationError, failed: set[str]) -> list[Problem]:
    """The root model's problems, without rules that read a section which failed (they
    would judge its defaults). ``region`` is the stack file's ``aws:region``."""
    problems = []
    for problem in translate("", StackConfig, err):
        top = problem.key.removeprefix(f"{PROJECT}:").split(".")[0].split("[")[0]
        if top in failed:
            continue
        if top == "region":
            problem = replace(problem, key="aws:region")
        problems.append(problem)
    return problems


def _without_duplicates(problems: list[Problem]) -> list[Problem]:
    """One problem per key: the first is the root cause (rules run most basic first)."""
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if problem.key not in seen:
            seen.add(problem.key)
            unique.append(problem)
    return unique


def build_config(
    stack: str, values: Mapping[str, str], secret_keys: Collection[str] = ()
) -> StackConfig:
    """Validate config as the CLI hands it to the program: full keys (``mlstack:owner``,
    ``aws:region``) to encoded strings, and the full keys that hold secrets."""
    prefix = f"{PROJECT}:"
    problems = []
    for key in values:
        namespace = key.split(":", 1)[0] if ":" in key else ""
        if namespace != PROJECT and namespace not in OTHER_NAMESPACES:
            name = key.split(":", 1)[-1]
            guess = difflib.get_close_matches(namespace, [PROJECT, *OTHER_NAMESPACES], n=1)
            hint = f"did you mean '{guess[0]}:{name}'? " if guess else ""
            problems.append(
                Problem(
                    key=key,
                    headline="unknown namespace",
                    allowed=f"{hint}the kit reads {PROJECT}: keys (and aws:region)",
                )
            )
    raw = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
    secrets = [k[len(prefix) :] for k in secret_keys if k.startswith(prefix)]
    try:
        config = build_stack_config(stack, raw, values.get("aws:region"), secrets)
    except ConfigError as err:
        raise ConfigError.of(stack, [*problems, *err.problems]) from None
    if problems:
        raise ConfigError.of(stack, problems)
    return config


def _all_config() -> tuple[dict[str, str], list[str]]:
    """Every config key set for this program, and the secret ones.

    The Python language host passes config as ``PULUMI_CONFIG``; the offline plan sets it
    with ``pulumi.runtime.set_all_config``. Both are read so typos are found either way.
    """
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secrets = [k for k in values if runtime_config.is_config_secret(k)]
    return values, secrets


def load_stack_config() -> StackConfig:
    """Read and validate the current stack's config through the Pulumi runtime.

    Raises :class:`ConfigError` with a short message on any problem.
    """
    values, secrets = _all_config()
    return build_config(pulumi.get_stack(), values, secrets)


def resolved_document(config: StackConfig) -> dict[str, Any]:
    """The stack's config with every default filled in, keyed as in the stack file
    (``aws:region``, ``mlstack:rollout`` with camelCase keys). Secrets stay placeholders."""
    document: dict[str, Any] = {
        "aws:region": config.region,
        project_key("environment"): config.environment.value,
        project_key("owner"): config.owner,
        project_key("accountId"): config.account_id,
        project_key("tags"): dict(config.tags),
    }
    for key in OBJECT_SECTIONS:
        if key == "tags" or (config.models and key in PER_MODEL_SECTIONS):
            continue
        section: BaseModel = getattr(config, key)
        dumped = section.model_dump(mode="json", by_alias=True)
        if config.models and key == "monitoring":
            dumped = {k: v for k, v in dumped.items() if k not in PER_MODEL_MONITORING}
        if config.models and key == "kubernetes":
            per_model = {to_camel(f) for f in KubernetesWorkloadConfig.model_fields}
            dumped = {k: v for k, v in dumped.items() if k not in per_model}
        document[project_key(key)] = dumped
    if config.models:
        document[project_key("modelDefaults")] = config.model_defaults.model_dump(
            mode="json", by_alias=True
        )
        document[project_key("fleets")] = {
            name: fleet.model_dump(mode="json", by_alias=True)
            for name, fleet in config.fleets.items()
        }
    # Every model's resolved settings under one key, single-model stacks included, so the
    # tooling reads one shape.
    document["models"] = {
        served.name: served.settings.model_dump(mode="json", by_alias=True)
        for served in config.served_models()
    }
    return document
