"""``mlstack:policy``: how the policy pack enforces its rules on a stack."""

from __future__ import annotations

from enum import Enum

from infra.config.types import Section


class PolicyEnforcement(str, Enum):
    """How the policy pack treats a violated rule on this stack."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class PolicyConfig(Section):
    """``mlstack:policy``: how the policy pack enforces its rules on this stack."""

    enforcement: PolicyEnforcement = PolicyEnforcement.ADVISORY
    """mandatory (violations fail the plan) or advisory. Default advisory; production must be
    mandatory."""
