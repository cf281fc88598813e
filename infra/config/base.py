"""The base of every stack-config section: frozen, strict, camelCase, no unknown keys."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

SECRET_PLACEHOLDER = "[secret]"
"""What a ``secure:`` value reads as in the offline plan, which cannot decrypt it. The
Pulumi CLI hands the program the real value; offline, a placeholder stands in its place
and skips the checks of the string it stands for (format, pattern), never the others."""


class Section(BaseModel):
    """Base for every config object: frozen, camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_enum_values=False,
    )

    @field_validator("*", mode="wrap")
    @classmethod
    def _secrets_stand_in(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as err:
            if value == SECRET_PLACEHOLDER:
                return value
            if not isinstance(value, list):
                raise
            # Forgive only the errors of placeholders; any other item's error still counts.
            secrets = {i for i, item in enumerate(value) if item == SECRET_PLACEHOLDER}
            if not secrets:
                raise
            others = [e for e in err.errors() if not (e["loc"][:1] and e["loc"][0] in secrets)]
            if not others:
                return value
            details = [
                InitErrorDetails(
                    type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {})
                )
                for e in others
            ]
            raise ValidationError.from_exception_data(err.title, details) from None


class FieldError(ValueError):
    """Raised inside validators to point at a key other than the one being validated."""

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        super().__init__(allowed)
        self.path = path
        self.value = value
        self.allowed = allowed
