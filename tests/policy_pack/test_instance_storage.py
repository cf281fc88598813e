"""The pack's instance-store table agrees with the program's over every SageMaker type."""

from __future__ import annotations

import botocore.session

from infra.components.endpoint import supports_volume_kms
from policy_pack.rules.instance_storage import has_instance_store


def _sagemaker_instance_types() -> list[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return list(model.shape_for("ProductionVariantInstanceType").enum)


def test_the_pack_and_the_program_agree_on_every_instance_type() -> None:
    types = _sagemaker_instance_types()
    assert len(types) > 100
    disagree = [t for t in types if has_instance_store(t) == supports_volume_kms(t)]
    assert disagree == []


def test_known_instance_store_and_ebs_types() -> None:
    for gpu in ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.g6.2xlarge", "ml.g6e.xlarge", "ml.c5d.large"):
        assert has_instance_store(gpu), gpu
    for ebs in ("ml.m5.large", "ml.c5.xlarge", "ml.g4.xlarge", "ml.inf1.xlarge", "ml.p3.2xlarge"):
        assert not has_instance_store(ebs), ebs
