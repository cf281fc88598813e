"""Typed, validated stack configuration: the only reader of ``pulumi.Config``.

Layout: ``stack.py`` the root model and the rules that span sections; one module per config
key (``registry``, ``model``, ``sagemaker``, ``rollout``, ``autoscaling``, ``monitoring``,
``policy``, ``network``, ``eks``, ``kubernetes``); ``types.py`` the shared constrained
types; ``loader.py`` raw config to a model; ``errors.py`` problems in words. Every default
and every rule lives in these modules, once.

Keys in YAML are camelCase (``stepPercent``); the Python attributes are snake_case.
"""

from __future__ import annotations

from infra.config.autoscaling import AutoscalingConfig
from infra.config.eks import EksConfig
from infra.config.errors import PROJECT, STACK_CONFIG_DIR, ConfigError, Problem, stack_file
from infra.config.kubernetes import KubernetesServingConfig
from infra.config.loader import (
    KNOWN_KEYS,
    OBJECT_SECTIONS,
    SCALAR_KEYS,
    build_config,
    build_stack_config,
    load_stack_config,
    resolved_document,
)
from infra.config.model import ModelConfig
from infra.config.monitoring import MonitoringConfig
from infra.config.network import NatMode, NetworkConfig
from infra.config.policy import PolicyConfig, PolicyEnforcement
from infra.config.registry import RegistryConfig
from infra.config.rollout import RollbackMetric, RolloutPolicy, RolloutStrategy
from infra.config.sagemaker import EndpointMode, SageMakerConfig
from infra.config.stack import Environment, StackConfig
from infra.config.types import SECRET_PLACEHOLDER, FieldError, Section

__all__ = [
    "KNOWN_KEYS",
    "OBJECT_SECTIONS",
    "PROJECT",
    "SCALAR_KEYS",
    "SECRET_PLACEHOLDER",
    "STACK_CONFIG_DIR",
    "AutoscalingConfig",
    "ConfigError",
    "EksConfig",
    "EndpointMode",
    "Environment",
    "FieldError",
    "KubernetesServingConfig",
    "ModelConfig",
    "MonitoringConfig",
    "NatMode",
    "NetworkConfig",
    "PolicyConfig",
    "PolicyEnforcement",
    "Problem",
    "RegistryConfig",
    "RollbackMetric",
    "RolloutPolicy",
    "RolloutStrategy",
    "SageMakerConfig",
    "Section",
    "StackConfig",
    "build_config",
    "build_stack_config",
    "load_stack_config",
    "resolved_document",
    "stack_file",
]
