"""The error a component raises for Args it refuses.

The Node SDK has ``pulumi.ResourceError(message, resource)``; the Python SDK has no such
class, so this is its counterpart: a :class:`pulumi.RunError` (the engine reports it without a
stack trace) that names the component refusing the Args.
"""

from __future__ import annotations

import pulumi


class ResourceError(pulumi.RunError):
    """Invalid Args (or an invalid combination of them) given to ``resource``."""

    def __init__(
        self, message: str, resource: pulumi.Resource | None, hide_stack: bool = False
    ) -> None:
        super().__init__(message)
        self.resource = resource
        """The component that refused its Args."""
        self.hide_stack = hide_stack
        """Whether the engine should omit the stack trace (as in the Node SDK)."""
