"""The mlstack Pulumi program: read the stack's config, wire the components, export outputs."""

import sys
from pathlib import Path

if not __package__:
    # The language host runs this directory as a script; make `infra` importable as a package.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi

from infra import delivery, eks
from infra.components.registry import Registry, RegistryArgs
from infra.config import load_stack_config

config = load_stack_config()
tags = config.resource_tags()

registry = Registry(
    "registry",
    RegistryArgs(
        model_package_group_name=config.registry.model_package_group_name,
        keep_tagged_images=config.registry.keep_tagged_images,
        untagged_image_expiry_days=config.registry.untagged_image_expiry_days,
        noncurrent_artifact_expiry_days=config.registry.noncurrent_artifact_expiry_days,
        kms_deletion_window_days=config.registry.kms_deletion_window_days,
        tags=tags,
    ),
)

pulumi.export("kmsKeyArn", registry.kms_key.arn)
pulumi.export("repositoryUrl", registry.repository.repository_url)
pulumi.export("modelPackageGroupName", registry.model_package_group.model_package_group_name)
pulumi.export("artifactsBucket", registry.artifacts_bucket.bucket)

# The VPC (mlstack:network); with it, the SageMaker models run in its private subnets.
network = eks.deploy_network(config, registry, tags)

# SageMaker endpoint, rollout, autoscaling, alarms, drift and dashboard.
sagemaker = delivery.deploy(config, registry, tags, **eks.sagemaker_network(network))
delivery.export(sagemaker)

# EKS cluster and the Kubernetes serving path (mlstack:eks, mlstack:kubernetes).
eks.export(network, eks.deploy_eks(config, registry, network, tags))
