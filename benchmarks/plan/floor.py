"""Floors of the plan benchmark: what the Pulumi SDK itself costs, on the same harness.

- :func:`replay_project`: a project whose program re-declares the resources of a plan, with
  the same types, names, parents and inputs, each through its pulumi-aws class (a component
  as a plain ``ComponentResource``), and nothing else: no config, no Outputs passed between
  resources, no invokes. Its plan has the same URNs and inputs; the time it takes is the
  SDK's own cost of registering exactly those resources, which no program could go below.
- :func:`bare_project`: a program of ``count`` bare ``pulumi.CustomResource`` registrations
  with three plain inputs: the SDK's cost of one registration at its smallest.

Both run through :func:`mlstack.offline.harness.run_plan`, with the same mocks as a plan.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks.plan.models import STACK
from mlstack.offline.plan import Plan

REPLAY_PROGRAM = '''
"""Re-declares the resources of plan.json with their planned inputs, and nothing else."""
import importlib, inspect, json, re
from pathlib import Path

import pulumi

document = json.loads((Path(__file__).parent / "plan.json").read_text())
declared = {}


def typed_class(token):
    package, module, name = token.split(":")
    if package != "aws":
        return None
    return getattr(importlib.import_module("pulumi_aws." + module.split("/")[0]), name, None)


for resource in document["resources"]:
    parent = declared.get(resource["parent"])
    opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
    kind, name, inputs = resource["type"], resource["name"], resource["inputs"]
    if not resource["custom"]:
        declared[resource["urn"]] = pulumi.ComponentResource(kind, name, None, opts)
        continue
    cls = typed_class(kind)
    keywords = {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in inputs.items()}
    if cls is not None and set(keywords) <= set(inspect.signature(cls._internal_init).parameters):
        declared[resource["urn"]] = cls(name, opts=opts, **keywords)
    else:
        declared[resource["urn"]] = pulumi.CustomResource(kind, name, dict(inputs), opts)
'''

BARE_PROGRAM = """
import pulumi

for i in range({count}):
    inputs = {{"name": f"bare-{{i}}", "size": 1, "tags": {{"k": "v"}}}}
    pulumi.CustomResource("mlstack:bench:Bare", f"bare-{{i}}", inputs)
"""


def _project(root: Path, program: str) -> Path:
    if root.exists():
        shutil.rmtree(root)
    (root / "program").mkdir(parents=True)
    (root / "program" / "__main__.py").write_text(program)
    (root / "Pulumi.yaml").write_text("name: mlstack\nruntime: python\nmain: program/\n")
    (root / f"Pulumi.{STACK}.yaml").write_text("config:\n  aws:region: us-east-1\n")
    return root


def replay_project(root: Path, plan: Plan) -> Path:
    """A project at ``root`` whose program re-declares ``plan``'s resources (its stack must be
    :data:`STACK`)."""
    project = _project(root, REPLAY_PROGRAM)
    (project / "program" / "plan.json").write_text(json.dumps(plan.to_json()))
    return project


def bare_project(root: Path, count: int) -> Path:
    """A project at ``root`` whose program registers ``count`` bare custom resources."""
    return _project(root, BARE_PROGRAM.format(count=count))


def same_registrations(plan: Plan, replayed: Plan) -> bool:
    """Whether the replay registered the plan's URNs with the plan's inputs."""
    return {r.urn: r.inputs for r in plan.resources} == {
        r.urn: r.inputs for r in replayed.resources
    }
