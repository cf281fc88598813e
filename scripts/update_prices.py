#!/usr/bin/env python3
"""Regenerate ``mlstack/diff_data/prices.json``: hourly on-demand prices in USD.

Sources (a later one overrides an earlier one for the same region and type):

1. Karpenter's generated on-demand price tables (``--karpenter-git-dir``, a git directory of
   aws/karpenter-provider-aws, Apache-2.0). Its ``pkg/providers/pricing/
   zz_generated.pricing_aws*.go`` files are written by the project's ``hack/code/prices_gen``
   from the AWS Pricing API (EC2 on-demand, Linux, shared tenancy) and committed with the
   time they were generated: every EC2 type AWS prices in each region they cover (today
   us-east-1 and the two GovCloud regions).
2. AWS Price List offer files (``--offer-file``): the region offer JSON of ``AmazonEC2`` or
   ``AmazonSageMaker`` as the Price List bulk API publishes it (``.../offers/v1.0/aws/
   AmazonSageMaker/current/<region>/index.json``). They fill in SageMaker real-time
   inference (``Hosting``) prices and EC2 regions Karpenter does not cover.

Only the instance types the config accepts are kept: SageMaker endpoint types and EC2 types
as ``infra/config/types.py`` reads them from botocore's service models. A price that is not
known is left out, never written as zero: the reviewer summary shows it as "unknown".

Usage::

    .venv/bin/python scripts/update_prices.py --karpenter-git-dir PATH [--offer-file PATH ...]

(``KARPENTER_GIT=PATH make prices`` does the same.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from infra.config.types import (  # noqa: E402  (the config's own lists of accepted types)
    ec2_instance_types,
    sagemaker_endpoint_instance_types,
)

OUTPUT = REPO_ROOT / "mlstack" / "diff_data" / "prices.json"
KARPENTER_REPOSITORY = "aws/karpenter-provider-aws"
KARPENTER_PRICE_FILES = (
    "pkg/providers/pricing/zz_generated.pricing_aws.go",
    "pkg/providers/pricing/zz_generated.pricing_aws_us_gov.go",
)

Prices = dict[str, dict[str, float]]
"""region -> instance type -> USD per instance-hour."""


# ------------------------------------------------------------------------------- Karpenter

_GENERATED = re.compile(r"^// generated at (\S+)", re.MULTILINE)
_REGION = re.compile(r'^\t"([a-z0-9-]+)": \{$')
_PRICE = re.compile(r'"([a-z0-9][a-z0-9.-]*)": ([0-9.]+)')


def parse_karpenter(text: str, wanted: set[str]) -> tuple[Prices, str | None]:
    """The prices of one of Karpenter's generated Go files, and the time it was generated."""
    out: Prices = {}
    region: str | None = None
    for line in text.splitlines():
        found = _REGION.match(line)
        if found:
            region = found.group(1)
            continue
        if line.startswith("\t}"):
            region = None
            continue
        if region is None or line.lstrip().startswith("//"):
            continue
        for itype, price in _PRICE.findall(line):
            if itype in wanted and float(price) > 0:
                out.setdefault(region, {})[itype] = float(price)
    generated = _GENERATED.search(text)
    return out, generated.group(1) if generated else None


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True
    ).stdout


def from_karpenter(git_dir: Path, wanted: set[str]) -> tuple[Prices, dict[str, Any]]:
    """EC2 prices from Karpenter's generated files at the git directory's HEAD."""
    commit = _git(git_dir, "rev-parse", "HEAD").strip()
    prices: Prices = {}
    generated: list[str] = []
    for path in KARPENTER_PRICE_FILES:
        table, when = parse_karpenter(_git(git_dir, "show", f"{commit}:{path}"), wanted)
        merge(prices, table)
        if when:
            generated.append(when)
    source = {
        "name": f"{KARPENTER_REPOSITORY} generated on-demand prices (Apache-2.0)",
        "files": list(KARPENTER_PRICE_FILES),
        "commit": commit,
        "asOf": min(generated)[:10] if generated else None,
        "covers": f"EC2 on-demand Linux, {', '.join(sorted(prices))}",
    }
    return prices, source


# ------------------------------------------------------------------- AWS price list files


def from_offer_file(
    offer: dict[str, Any], ec2_wanted: set[str], sm_wanted: set[str]
) -> tuple[str, Prices]:
    """Parse an AWS Price List offer file (``AmazonEC2`` or ``AmazonSageMaker``).

    Returns (service, region -> type -> on-demand USD per hour). EC2 rows are Linux, shared
    tenancy, no pre-installed software, ``capacitystatus`` Used; SageMaker rows are
    ``ML Instance`` products of the ``Hosting`` component.
    """
    code = offer.get("offerCode")
    service = {"AmazonEC2": "ec2", "AmazonSageMaker": "sagemaker"}.get(code or "")
    if service is None:
        raise ValueError(f"unsupported offer file {code!r}")
    keep: dict[str, tuple[str, str]] = {}
    for sku, product in offer.get("products", {}).items():
        a = product.get("attributes", {})
        region = a.get("regionCode")
        if not region:
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
    out: Prices = {}
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


def merge(into: Prices, new: Prices) -> None:
    """Merge region -> type -> price maps (``new`` wins)."""
    for region, prices in new.items():
        into.setdefault(region, {}).update(prices)


def _size_key(itype: str) -> tuple[str, int, str]:
    family, _, size = itype.rpartition(".")
    found = re.match(r"(\d*)x?large", size)
    return family, int(found.group(1)) if found and found.group(1) else 0, size


def _sorted(prices: Prices) -> Prices:
    return {
        region: {t: prices[region][t] for t in sorted(prices[region], key=_size_key)}
        for region in sorted(prices)
        if prices[region]
    }


def build(karpenter_git_dir: Path | None, offer_files: Iterable[Path]) -> dict[str, Any]:
    """Build the whole price document."""
    ec2_wanted = set(ec2_instance_types())
    sm_wanted = set(sagemaker_endpoint_instance_types())
    ec2: Prices = {}
    sagemaker: Prices = {}
    sources: list[dict[str, Any]] = []
    if karpenter_git_dir is not None:
        table, source = from_karpenter(karpenter_git_dir, ec2_wanted)
        merge(ec2, table)
        sources.append(source)
    for path in offer_files:
        offer = json.loads(Path(path).read_text())
        service, table = from_offer_file(offer, ec2_wanted, sm_wanted)
        merge(ec2 if service == "ec2" else sagemaker, table)
        sources.append(
            {
                "name": f"AWS Price List offer file {offer.get('offerCode')}",
                "file": Path(path).name,
                "asOf": (offer.get("publicationDate") or "")[:10] or None,
                "version": offer.get("version"),
            }
        )
    if not sources:
        raise SystemExit("no source: give --karpenter-git-dir and/or --offer-file")
    dates = [s["asOf"] for s in sources if s.get("asOf")]
    return {
        "source": {
            "generated": dt.date.today().isoformat(),
            "pricesAsOf": min(dates) if dates else None,
            "sources": sources,
            "regions": {"ec2": sorted(ec2), "sagemaker": sorted(sagemaker)},
            "note": (
                "Hourly on-demand list prices in USD (Linux, shared tenancy for EC2; "
                "real-time inference hosting for SageMaker) of the instance types the config "
                "accepts. Types or regions without a known price are absent and read as "
                "unknown."
            ),
        },
        "currency": "USD",
        "unit": "per instance-hour",
        "sagemaker": _sorted(sagemaker),
        "ec2": _sorted(ec2),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--karpenter-git-dir", type=Path, help="git dir of " + KARPENTER_REPOSITORY)
    parser.add_argument("--offer-file", type=Path, action="append", default=[])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    doc = build(args.karpenter_git_dir, args.offer_file)
    args.output.write_text(json.dumps(doc, indent=1) + "\n")
    n_sm = sum(len(v) for v in doc["sagemaker"].values())
    n_ec2 = sum(len(v) for v in doc["ec2"].values())
    print(f"wrote {args.output}: {n_sm} SageMaker and {n_ec2} EC2 prices", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
