"""Which tier a stack is and how strictly the pack enforces it, from the tier declaration.

The tier comes from ``tiers.yaml`` beside this module, not from the stack file under review:
a pull request that sets ``mlstack:environment: staging`` in the production stack file
cannot turn production rules off. A stack missing from the declaration, or a declaration
that cannot be read, is production (fail closed). Enforcement is mandatory in production;
elsewhere it is advisory unless the stack's ``mlstack:policy.enforcement`` asks for
mandatory (config can only make the pack stricter).

The pack reads the stack's config in the CLI's string encoding (``mlstack:policy`` is a JSON
string) from ``PULUMI_CONFIG`` and the stack name from ``PULUMI_STACK``, as the policy host
passes them; the offline checks pass the plan's config.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from policy_pack.rules import StackContext

PRODUCTION = "production"
STAGING = "staging"
TIERS = (STAGING, PRODUCTION)
MANDATORY = "mandatory"
ADVISORY = "advisory"
TIERS_FILE = Path(__file__).with_name("tiers.yaml")
"""The tier declaration: ``stacks: {<stack name>: staging | production}``."""


class TierDeclarationError(Exception):
    """``tiers.yaml`` is not a mapping of stack names to tiers."""


def load_tiers(path: Path = TIERS_FILE) -> dict[str, str]:
    """Stack name -> tier, as declared in ``path``.

    Raises :class:`TierDeclarationError` naming the file and the bad entry."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise TierDeclarationError(f"{path.name}: cannot be read ({type(err).__name__})") from None
    stacks = document.get("stacks") if isinstance(document, dict) else None
    if not isinstance(stacks, dict):
        raise TierDeclarationError(f"{path.name}: expected 'stacks:' mapping stack names to tiers")
    bad = [f"{name}: {tier}" for name, tier in stacks.items() if tier not in TIERS]
    if bad:
        raise TierDeclarationError(
            f"{path.name}: tiers are {' or '.join(TIERS)}; fix {', '.join(map(str, bad))}"
        )
    return {str(name): str(tier) for name, tier in stacks.items()}


def tier_of(stack: str, path: Path = TIERS_FILE) -> str:
    """The declared tier of ``stack``; production when undeclared or unreadable."""
    try:
        return load_tiers(path).get(stack, PRODUCTION)
    except TierDeclarationError:
        return PRODUCTION


def requested_enforcement(config: Mapping[str, str]) -> str | None:
    """``mlstack:policy.enforcement`` as the stack file asks (``None`` when unset)."""
    try:
        policy = json.loads(config.get("mlstack:policy") or "{}")
    except json.JSONDecodeError:
        return None
    level = policy.get("enforcement") if isinstance(policy, dict) else None
    return level if level in (MANDATORY, ADVISORY) else None


def enforcement(tier: str, config: Mapping[str, str]) -> str:
    """Mandatory in production; elsewhere what the stack asks, advisory when unset."""
    if tier != STAGING:
        return MANDATORY
    return MANDATORY if requested_enforcement(config) == MANDATORY else ADVISORY


def stack_context(stack: str, tier: str, config: Mapping[str, str] | None = None) -> StackContext:
    """What stack rules know of the stack: its name, declared tier and configured environment."""
    configured = (config or {}).get("mlstack:environment")
    return StackContext(stack=stack, environment=tier, configured_environment=configured)


def engine_config(environ: Mapping[str, str] = os.environ) -> tuple[str, dict[str, str]]:
    """(stack, encoded config) of the stack the policy host runs the pack against.

    An unreadable ``PULUMI_CONFIG`` reads as empty: config can only raise strictness, so
    losing it never loosens the gate."""
    stack = environ.get("PULUMI_STACK", "")
    try:
        config = json.loads(environ.get("PULUMI_CONFIG") or "{}")
    except json.JSONDecodeError:
        config = {}
    if not isinstance(config, dict):
        config = {}
    return stack, {str(k): str(v) for k, v in config.items()}
