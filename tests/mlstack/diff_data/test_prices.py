"""Price data: magnitudes, ordering, absence of unknowns, and the offer-file parser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from mlstack.diff_data import prices
from mlstack.diff_data.prices import hourly_price
from tests.mlstack.diff_data.scripts import load_script

DATA = Path(prices.__file__).with_name("prices.json")


@pytest.fixture(scope="module")
def update() -> ModuleType:
    return load_script("update_prices.py")


def test_m5_large_magnitude() -> None:
    price = hourly_price("ec2", "us-east-1", "m5.large")
    assert price is not None
    assert 0.05 < price < 0.5


def test_larger_type_costs_more_in_same_family() -> None:
    for family in ("m5", "c5", "r5", "t3"):
        sizes = ["large", "xlarge", "2xlarge"]
        known = [hourly_price("ec2", "us-east-1", f"{family}.{s}") for s in sizes]
        known = [p for p in known if p is not None]
        assert len(known) >= 2, family
        assert known == sorted(known) and len(set(known)) == len(known), family


def test_gpu_costs_more_than_general_purpose() -> None:
    gpu = hourly_price("ec2", "us-east-1", "g5.xlarge")
    cpu = hourly_price("ec2", "us-east-1", "m5.xlarge")
    assert gpu is not None and cpu is not None and gpu > cpu


def test_unknown_is_none() -> None:
    assert hourly_price("ec2", "us-east-1", "m5.nonexistent") is None
    assert hourly_price("ec2", "mars-north-1", "m5.large") is None
    assert hourly_price("sagemaker", "us-east-1", "ml.unknown.large") is None


def test_unknown_service_raises() -> None:
    with pytest.raises(ValueError, match="unknown service"):
        hourly_price("lambda", "us-east-1", "m5.large")  # type: ignore[arg-type]


def test_no_zero_or_negative_prices() -> None:
    doc = json.loads(DATA.read_text())
    for service in ("sagemaker", "ec2"):
        for region, table in doc[service].items():
            for itype, price in table.items():
                assert price > 0, (service, region, itype)
                if service == "sagemaker":
                    assert itype.startswith("ml."), itype


def test_source_records_a_date_and_currency() -> None:
    src = prices.source()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src["pricesAsOf"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src["generated"])
    assert src["sources"] and all(s.get("name") for s in src["sources"])
    assert prices.currency() == "USD"


def _offer(code: str, products: dict, prices_usd: dict[str, str]) -> dict:
    return {
        "offerCode": code,
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
        "products": products,
        "terms": {
            "OnDemand": {
                sku: {
                    f"{sku}.T": {
                        "priceDimensions": {
                            f"{sku}.T.D": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}
                        }
                    }
                }
                for sku, usd in prices_usd.items()
            }
        },
    }


def test_sagemaker_offer_file_keeps_hosting_only(update: ModuleType) -> None:
    def product(name: str, component: str, region: str = "us-east-1") -> dict:
        return {
            "productFamily": "ML Instance",
            "attributes": {"regionCode": region, "instanceName": name, "component": component},
        }

    offer = _offer(
        "AmazonSageMaker",
        {
            "A": product("ml.m5.large", "Hosting"),
            "B": product("ml.m5.large", "Training"),
            "C": product("ml.m5.xlarge", "Hosting"),
            "D": product("ml.m5.large", "Hosting", region="ap-south-1"),
            "E": product("ml.g5.xlarge", "Hosting"),
        },
        {"A": "0.1150", "B": "0.1150", "C": "0.2300", "D": "0.1", "E": "0.0000"},
    )
    service, table = update.from_offer_file(offer, set(), {"ml.m5.large", "ml.m5.xlarge"})
    assert service == "sagemaker"
    assert table == {
        "us-east-1": {"ml.m5.large": 0.115, "ml.m5.xlarge": 0.23},
        "ap-south-1": {"ml.m5.large": 0.1},
    }


def test_ec2_offer_file_keeps_linux_shared_on_demand(update: ModuleType) -> None:
    def product(os_name: str, tenancy: str = "Shared", sw: str = "NA") -> dict:
        return {
            "productFamily": "Compute Instance",
            "attributes": {
                "regionCode": "eu-west-1",
                "instanceType": "m5.large",
                "operatingSystem": os_name,
                "tenancy": tenancy,
                "preInstalledSw": sw,
                "capacitystatus": "Used",
            },
        }

    offer = _offer(
        "AmazonEC2",
        {"L": product("Linux"), "W": product("Windows"), "D": product("Linux", "Dedicated")},
        {"L": "0.107", "W": "0.199", "D": "0.12"},
    )
    service, table = update.from_offer_file(offer, {"m5.large"}, set())
    assert service == "ec2"
    assert table == {"eu-west-1": {"m5.large": 0.107}}


KARPENTER_SAMPLE = """package pricing

// generated at 2026-07-20T13:44:30Z for us-east-1

var InitialOnDemandPricesAWS = map[string]map[ec2types.InstanceType]float64{
	// us-east-1
	"us-east-1": {
		// m6i family
		"m6i.large": 0.096000, "m6i.xlarge": 0.192000, "m6i.bogus": 0.5,
		"t3.nano": 0.000000,
	},
	"eu-west-1": {
		"m6i.large": 0.107000,
	},
}
"""


def test_karpenter_tables_keep_accepted_types_and_the_generation_time(
    update: ModuleType,
) -> None:
    table, generated = update.parse_karpenter(
        KARPENTER_SAMPLE, {"m6i.large", "m6i.xlarge", "t3.nano"}
    )
    assert table == {
        "us-east-1": {"m6i.large": 0.096, "m6i.xlarge": 0.192},
        "eu-west-1": {"m6i.large": 0.107},
    }
    assert generated == "2026-07-20T13:44:30Z"


def test_every_node_type_of_the_shipped_stacks_and_defaults_has_a_price() -> None:
    for itype in ("m6i.large", "m6i.xlarge", "m5.large", "c7i.4xlarge", "g6.2xlarge"):
        assert hourly_price("ec2", "us-east-1", itype) is not None, itype


def test_priced_ec2_types_are_types_the_config_accepts() -> None:
    from infra.config.types import ec2_instance_types

    accepted = set(ec2_instance_types())
    doc = json.loads(DATA.read_text())
    for region, table in doc["ec2"].items():
        assert set(table) <= accepted, region
