"""Schema pieces shared by resources."""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from marshmallow import validate


def decimal_string(description: str, example: str) -> ma.fields.Decimal:
    """Money as a decimal string, so no precision is lost in JSON; documented as what it is on
    the wire (a Decimal field alone would be documented as a number)."""
    return ma.fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": description, "type": "string", "format": "decimal", "example": example,
    })


def sort_field(allowed: tuple[str, ...], default: str) -> ma.fields.String:
    """``sort=-applied_at,company``: names from ``allowed``, each optionally prefixed by ``-``."""

    # At most as many fields as there are to sort by; the pattern is also the documentation.
    field = f"-?(?:{'|'.join(allowed)})"
    pattern = f"^{field}(?:,{field}){{0,{len(allowed) - 1}}}$"
    return ma.fields.String(
        load_default=default,
        validate=validate.Regexp(
            pattern, error=f"Sort by any of {', '.join(allowed)}, comma-separated, '-' prefix for descending."
        ),
        metadata={"description": f"Comma-separated fields from {', '.join(allowed)}; prefix '-' for descending.",
                  "pattern": pattern},
    )


class UtcDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 date-time with an offset, converted to UTC: PostgreSQL refuses offsets past
    ±15:59 that Python accepts, and a date near year 1 or 9999 can leave the range in UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        try:
            return result.astimezone(timezone.utc)
        except OverflowError as exc:
            raise ma.ValidationError("Date-time out of range.") from exc


def within_documented_length(field: ma.fields.Field, value: str) -> None:
    """The ``maxLength`` in the OpenAPI document applies to the text as sent, before trimming
    (otherwise a 201-character title with a leading space would pass a documented 200)."""
    for validator in field.validators:
        if isinstance(validator, validate.Length) and validator.max is not None and len(value) > validator.max:
            raise ma.ValidationError(f"Longer than maximum length {validator.max}.")


class TrimmedString(ma.fields.String):
    """Leading/trailing whitespace is never meaningful in names and titles."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result is None:
            return result
        within_documented_length(self, result)
        return result.strip()
