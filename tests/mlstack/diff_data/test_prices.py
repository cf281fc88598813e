"""Price data: magnitudes, ordering, absence of unknowns, and the offer-file parser."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from mlstack.diff_data import prices
from mlstack.diff_data.prices import hourly_price

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "update_prices.py"
DATA = Path(prices.__file__).with_name("prices.json")


@pytest.fixture(scope="module")
def update() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_prices", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
    assert table == {"us-east-1": {"ml.m5.large": 0.115, "ml.m5.xlarge": 0.23}}


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


def test_covered_ec2_types_include_node_families(update: ModuleType) -> None:
    types = update.ec2_types()
    assert {"m5.large", "c7i.4xlarge", "g6.2xlarge", "t3.xlarge"} <= types
    assert all(not t.startswith("ml.") for t in types)
