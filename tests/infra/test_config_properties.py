"""Generated invalid numbers and enum values are always rejected, naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.config import ConfigError
from infra.config.rollout import RolloutStrategy
from tests.infra.config_helpers import config_from_doc
from tests.infra.test_config_rejects import production_doc

BASE = production_doc()

# (section, key, strategy of values AWS does not allow)
OUT_OF_RANGE = [
    ("mlstack:rollout", "bakeSeconds", st.integers(max_value=-1) | st.integers(min_value=3601)),
    (
        "mlstack:rollout",
        "terminationWaitSeconds",
        st.integers(max_value=-1) | st.integers(min_value=3601),
    ),
    (
        "mlstack:rollout",
        "maximumExecutionTimeoutSeconds",
        st.integers(max_value=599) | st.integers(min_value=28801),
    ),
    ("mlstack:rollout", "stepPercent", st.integers(max_value=0) | st.integers(min_value=51)),
    ("mlstack:sagemaker", "instanceCount", st.integers(max_value=1) | st.integers(min_value=101)),
    (
        "mlstack:registry",
        "kmsDeletionWindowDays",
        st.integers(max_value=6) | st.integers(min_value=31),
    ),
]


def _with(section: str, key: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc[section][key] = value
    return doc


@pytest.mark.parametrize(
    ("section", "key", "values"), OUT_OF_RANGE, ids=[k for _, k, _ in OUT_OF_RANGE]
)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_out_of_range_numbers_are_rejected(section: str, key: str, values: Any, data: Any) -> None:
    value = data.draw(values)
    with pytest.raises(ConfigError) as info:
        config_from_doc("production", _with(section, key, value))
    assert f"{section}.{key} = {value}" in str(info.value)


VALID_STRATEGIES = {s.value for s in RolloutStrategy}


@settings(max_examples=50, deadline=None)
@given(value=st.text(min_size=1, max_size=20).filter(lambda v: v not in VALID_STRATEGIES))
def test_unknown_strategies_are_rejected(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_doc("production", _with("mlstack:rollout", "strategy", value))
    assert "mlstack:rollout.strategy = " in str(info.value)


@settings(max_examples=50, deadline=None)
@given(
    value=st.text(min_size=1, max_size=20).filter(
        lambda v: (
            v not in {"latency-p99", "latency-average", "errors-5xx", "errors-4xx", "model-errors"}
        )
    )
)
def test_unknown_rollback_metrics_are_rejected(value: str) -> None:
    doc = copy.deepcopy(BASE)
    doc["mlstack:rollout"]["rollbackAlarms"][0]["metric"] = value
    with pytest.raises(ConfigError) as info:
        config_from_doc("production", doc)
    assert "mlstack:rollout.rollbackAlarms[0].metric = " in str(info.value)
