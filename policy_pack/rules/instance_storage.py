"""SageMaker instance types whose storage is local NVMe instance store.

AWS refuses a storage-volume KMS key on an endpoint configuration that uses one of them
(``KmsKeyId``: "do not specify a value ... with nitro-based instances with local storage");
their instance store is encrypted at rest by the hardware (XTS-AES-256). The program keeps the
same table (``infra/components/endpoint.py``); a test holds the two equal over every instance
type botocore's SageMaker model lists, because the pack must stay self-contained.
"""

from __future__ import annotations

import re

INSTANCE_STORE_FAMILIES = re.compile(r"^ml\.([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p5|p5e|trn1)\.")
"""``ml.<family>.<size>`` with local NVMe storage: every ``*d`` family (c5d, m5d, g4dn, r5d,
...) and the accelerated families that always carry it (g5, g6, g6e, p5, p5e, trn1)."""


def has_instance_store(instance_type: str) -> bool:
    """Whether ``instance_type`` keeps its ML storage on hardware-encrypted instance store."""
    return bool(INSTANCE_STORE_FAMILIES.match(instance_type))
