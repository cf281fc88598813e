"""The mlstack CrossGuard policy pack: ``pulumi preview --policy-pack policy_pack``.

Builds the pack from the rules at the enforcement of the stack's declared tier (mandatory in
production, and for any stack ``tiers.yaml`` does not list). Constructing ``PolicyPack``
starts the pack's gRPC server and blocks, so nothing else runs here.
"""

import sys
from pathlib import Path

if not __package__:
    # The policy host runs this directory as a script; make `policy_pack` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy_pack.pack import PACK_NAME, build_policies, enforcement_level
from policy_pack.settings import enforcement, engine_config, stack_context, tier_of

stack, config = engine_config()
tier = tier_of(stack)
PolicyPack(
    name=PACK_NAME,
    enforcement_level=enforcement_level(enforcement(tier, config)),
    policies=build_policies(stack_context(stack, tier, config)),
    description="mlstack: AWS, Kubernetes and ML delivery rules (see docs/policy.md).",
)
