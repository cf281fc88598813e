"""A small evaluator of IAM policy documents, for tests: explicit Deny wins, then any Allow,
else an implicit deny. moto's (moto.iam.access_control) knows only StringEquals, treats an
unmet condition of an Allow as a Deny and ``?`` as a literal, so it cannot judge these policies.

Supported: Action/NotAction (case-insensitive), Resource/NotResource, ``*`` and ``?``
wildcards, condition operators StringEquals, StringNotEquals, StringLike, StringNotLike,
ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool, Null, and each of them but Null with the
``IfExists`` suffix (a missing key passes it); keys and values combined as IAM does (operators
and keys AND, a key's listed values OR; a missing key fails every positive operator and passes
the negated ones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from functools import cache
from typing import Any

Context = Mapping[str, str | Sequence[str]]


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@cache
def _pattern(wildcard: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wildcard)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(wildcard: str, value: str, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``wildcard`` (``*`` any run, ``?`` one character)."""
    return bool(_pattern(wildcard, ignore_case).match(value))


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _positive(operator: str, expected: list[str], actual: list[str]) -> bool:
    if operator == "StringEquals":
        return any(a == e for a in actual for e in expected)
    if operator in ("StringLike", "ArnLike", "ArnEquals"):
        return any(matches(e, a) for a in actual for e in expected)
    if operator == "Bool":
        return any(a.lower() == e.lower() for a in actual for e in expected)
    raise ValueError(f"condition operator {operator} is not supported by this evaluator")


NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_met(conditions: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    for written, keys in conditions.items():
        operator = written.removesuffix("IfExists")
        if_exists = operator != written
        if if_exists and operator == "Null":
            raise ValueError("NullIfExists is not an IAM condition operator")
        for key, expected in keys.items():
            present = key in context
            if if_exists and not present:
                continue
            actual = _listed(context[key]) if present else []
            expected_values = [str(v) for v in _listed(expected)]
            if operator == "Null":
                if (not present) != (expected_values[0].lower() == "true"):
                    return False
            elif operator in NEGATED:
                if present and _positive(NEGATED[operator], expected_values, actual):
                    return False
            elif not present or not _positive(operator, expected_values, actual):
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if "Action" in statement:
        if not any(matches(a, action, True) for a in _listed(statement["Action"])):
            return False
    elif any(matches(a, action, True) for a in _listed(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(matches(r, resource) for r in _listed(statement["Resource"])):
            return False
    elif any(matches(r, resource) for r in _listed(statement["NotResource"])):
        return False
    return _condition_met(statement.get("Condition", {}), context)


def evaluate(
    policies: Sequence[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Context | None = None,
) -> Decision:
    """The decision of identity ``policies`` on ``action`` on ``resource`` in ``context``
    (request context keys such as ``aws:ResourceTag/k`` to a value or values; default none)."""
    allowed = False
    for policy in policies:
        statements = policy["Statement"]
        for statement in [statements] if isinstance(statements, Mapping) else statements:
            if _applies(statement, action, resource, context or {}):
                if statement["Effect"] == "Deny":
                    return Decision.EXPLICIT_DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
