"""pulumi-aws-native resources become a CloudFormation template checkov reads."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mlstack.offline.plan import Plan, PlannedResource
from mlstack.scan.checkov import checkov_binary
from mlstack.scan.cloudformation import cloudformation_type, convert_native
from mlstack.scan.terraform_json import convert_plan


def _resource(type_token: str, name: str, inputs: dict) -> PlannedResource:
    return PlannedResource(
        f"urn:pulumi:t::mlstack::{type_token}::{name}", type_token, name, None, True, None, inputs
    )


QUALITY = _resource(
    "aws-native:sagemaker:ModelQualityJobDefinition",
    "churn-quality-job",
    {
        "modelQualityAppSpecification": {
            "imageUri": "x",
            "problemType": "BinaryClassification",
            "environment": {"publish_cloudwatch_metrics": "Enabled"},
        },
        "modelQualityJobOutputConfig": {"kmsKeyId": "k", "monitoringOutputs": []},
        "tags": [{"key": "owner", "value": "ml"}],
    },
)


def test_types_map_to_cloudformation() -> None:
    assert cloudformation_type(QUALITY.type) == "AWS::SageMaker::ModelQualityJobDefinition"
    assert cloudformation_type("aws:sagemaker/model:Model") is None


def test_properties_are_pascal_case_and_free_form_maps_kept() -> None:
    template = convert_native(Plan("mlstack", "t", [QUALITY], {}))
    (body,) = template["Resources"].values()
    properties = body["Properties"]
    assert properties["ModelQualityAppSpecification"]["Environment"] == {
        "publish_cloudwatch_metrics": "Enabled"
    }
    assert properties["ModelQualityJobOutputConfig"]["KmsKeyId"] == "k"
    assert properties["Tags"] == [{"Key": "owner", "Value": "ml"}]


def test_terraform_conversion_lists_them_as_scanned_elsewhere() -> None:
    conversion = convert_plan(Plan("mlstack", "t", [QUALITY], {}))
    assert conversion.unknown_types() == []
    assert "CloudFormation" in conversion.not_converted[0][2]


@pytest.mark.skipif(checkov_binary() is None, reason="checkov is installed by make tools")
def test_checkov_parses_the_template(tmp_path: Path) -> None:
    folder = tmp_path / "cloudformation"
    folder.mkdir()
    template = convert_native(Plan("mlstack", "t", [QUALITY], {}))
    (folder / "template.json").write_text(json.dumps(template))
    completed = subprocess.run(
        [str(checkov_binary()), "--directory", str(tmp_path), "--framework", "cloudformation",
         "--skip-download", "--output", "json", "--compact"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip
    assert completed.returncode in (0, 1), completed.stderr[-300:]
    assert '"parsing_errors": 0' in completed.stdout or completed.stdout.strip() in ("[]", "{}")
