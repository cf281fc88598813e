"""Feeds resources to the CrossGuard pack as the policy host would, inside the pack's own venv.

Run as ``<pack venv>/bin/python pack_driver.py RESOURCES.json``: the file holds
``{"stack", "tier", "config", "resources": [{"urn", "type", "name", "inputs"}]}``. Prints
``[{"policy", "urn", "message"}]``. It imports only the pack and pulumi_policy, so it runs
where nothing but the pack's requirements.txt is installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import PolicyResource
from pulumi_policy.proxy import unknown_checking_proxy

from policy_pack.pack import build_policies
from policy_pack.settings import stack_context

OPTIONS = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


def main(path: str) -> None:
    document = json.loads(Path(path).read_text())
    context = stack_context(document["stack"], document["tier"], document["config"])
    reported: list[dict] = []
    resources = document["resources"]
    for policy in build_policies(context):
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(
                    r["type"],
                    unknown_checking_proxy(r["inputs"]),
                    r["urn"],
                    r["name"],
                    OPTIONS,
                    None,
                )
                policy.validate(
                    args,
                    lambda m, urn=None, p=policy.name, u=r["urn"]: reported.append(
                        {"policy": p, "urn": u, "message": m}
                    ),
                )
        else:
            stack = [
                PolicyResource(
                    r["type"],
                    unknown_checking_proxy(r["inputs"]),
                    r["urn"],
                    r["name"],
                    OPTIONS,
                    None,
                    None,
                    [],
                    {},
                )
                for r in resources
            ]
            policy.validate(
                StackValidationArgs(stack, None),
                lambda m, urn=None, p=policy.name: reported.append(
                    {"policy": p, "urn": urn, "message": m}
                ),
            )
    print(json.dumps(reported))


if __name__ == "__main__":
    main(sys.argv[1])
