"""The mlstack CrossGuard policy pack: ``pulumi preview --policy-pack infra/policy``.

Builds the pack from the rules at the stack's enforcement level (mandatory in production).
Constructing ``PolicyPack`` starts the pack's gRPC server and blocks, so nothing else runs here.
"""

import sys
from pathlib import Path

if not __package__:
    # The policy host runs this directory as a script; make `infra` importable as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import PolicyPack

from infra.policy.pack import PACK_NAME, build_policies, enforcement_level
from infra.policy.settings import context_from_config, enforcement_from_config, engine_config

stack, config = engine_config()
PolicyPack(
    name=PACK_NAME,
    enforcement_level=enforcement_level(enforcement_from_config(config)),
    policies=build_policies(context_from_config(stack, config)),
    description="mlstack: AWS, Kubernetes and ML delivery rules (see docs/policy.md).",
)
