"""Keyed fingerprints of secret values: plans compare secrets without showing them.

A secret input of a plan reads ``[secret:<16 hex>]``: HMAC-SHA256 of the value under a key of
its stack, cut to 64 bits. Equal values give equal fingerprints within a stack, so a diff can
say "[secret] changed" or leave it out; without the key a fingerprint says nothing about the
value, not even for a guessable one (a plain hash of a webhook URL could be confirmed by
hashing candidate URLs).

The key of a stack is HMAC-SHA256(project key, ``"mlstack secret fingerprint v1" \\0 project
\\0 stack``): two stacks never share fingerprints, so a value known in one stack says nothing
about another. The project key comes from :data:`FINGERPRINT_KEY_ENV` (a CI secret or a
developer's keychain, never the repository); without it every process draws a random key and
hands it to the plans it starts (:func:`child_environment`), so both sides of one
``mlstack diff`` compare, and fingerprints of separate runs do not.

``secure:`` values are fingerprinted by their ciphertext, as ``[secret:secure-<16 hex>]``:
offline nothing can decrypt them. The same ciphertext is the same value; a new ciphertext is
either a new value or the same one encrypted again (the secrets providers draw a fresh nonce
each time), and the diff says exactly that.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.config.errors import project_key
from infra.config.types import SECRET_KEYS, is_secret_placeholder

FINGERPRINT_KEY_ENV = "MLSTACK_SECRET_FINGERPRINT_KEY"
"""Environment variable holding the project's fingerprint key (at least 32 characters, e.g.
``openssl rand -hex 32``). Unset: a random key per run."""
MIN_KEY_CHARS = 32
FINGERPRINT_HEX_CHARS = 16
"""64 bits: two different values share a fingerprint with odds of 1 in 2**64."""
SECURE_MARK = "secure-"
"""Prefix of the fingerprint of a ``secure:`` ciphertext."""


class FingerprintKeyError(ValueError):
    """The configured fingerprint key is unusable; the message says how to fix it."""


@functools.cache
def _run_key() -> str:
    return secrets.token_hex(32)


def master_key() -> bytes:
    """The configured project key, or this run's random one.

    Raises :class:`FingerprintKeyError` for a configured key shorter than 32 characters."""
    configured = os.environ.get(FINGERPRINT_KEY_ENV)
    if configured is None or configured == "":
        return _run_key().encode()
    if len(configured) < MIN_KEY_CHARS:
        raise FingerprintKeyError(
            f"{FINGERPRINT_KEY_ENV}: {len(configured)} characters; use at least "
            f"{MIN_KEY_CHARS} random ones (openssl rand -hex 32), or unset it for a key per run"
        )
    return configured.encode()


def child_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` for a process that plans a stack beside this one: the same key."""
    child = dict(environment)
    if not child.get(FINGERPRINT_KEY_ENV):
        child[FINGERPRINT_KEY_ENV] = _run_key()
    return child


def is_ciphertext_fingerprint(value: Any) -> bool:
    """A fingerprint of a ``secure:`` ciphertext (not of the value itself)."""
    return isinstance(value, str) and value.startswith(f"[secret:{SECURE_MARK}")


@dataclass(frozen=True)
class Fingerprinter:
    """Fingerprints of one stack's secrets."""

    key: bytes

    @classmethod
    def for_stack(cls, project: str, stack: str) -> Fingerprinter:
        """The fingerprinter of ``stack`` under the project key (see :func:`master_key`)."""
        label = f"mlstack secret fingerprint v1\0{project}\0{stack}".encode()
        return cls(hmac.new(master_key(), label, hashlib.sha256).digest())

    def _digest(self, kind: str, data: str) -> str:
        mac = hmac.new(self.key, f"{kind}\0{data}".encode(), hashlib.sha256)
        return mac.hexdigest()[:FINGERPRINT_HEX_CHARS]

    def value(self, value: Any) -> str:
        """``[secret:<fp>]`` of a plaintext value (strings as they are, anything else as
        compact JSON with sorted keys); a placeholder stays as it is."""
        if is_secret_placeholder(value):
            return str(value)
        data = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return f"[secret:{self._digest('value', data)}]"

    def ciphertext(self, ciphertext: Any) -> str:
        """``[secret:secure-<fp>]`` of a ``secure:`` value's ciphertext."""
        return f"[secret:{SECURE_MARK}{self._digest('secure', str(ciphertext))}]"

    def config_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The resolved config with every value of a secret-class key (:data:`SECRET_KEYS`,
        e.g. webhook URLs given in plain text) replaced by its fingerprint."""
        out = json.loads(json.dumps(document))
        for dotted in SECRET_KEYS:
            section, _, field = dotted.partition(".")
            holder = out.get(project_key(section))
            if not isinstance(holder, dict) or field not in holder:
                continue
            value = holder[field]
            if isinstance(value, list):
                holder[field] = [self.value(item) for item in value]
            elif value is not None:
                holder[field] = self.value(value)
        return out
