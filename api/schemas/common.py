"""Schema pieces shared by resources."""
from __future__ import annotations

import marshmallow as ma


def sort_field(allowed: tuple[str, ...], default: str) -> ma.fields.String:
    """``sort=-applied_at,company``: names from ``allowed``, each optionally prefixed by ``-``."""

    def validate(value: str) -> None:
        fields = value.split(",")
        bad = [f for f in fields if f.lstrip("-") not in allowed or f.count("-") > 1]
        if bad or len(fields) > len(allowed):
            raise ma.ValidationError(
                f"Sort by any of {', '.join(allowed)}, comma-separated, '-' prefix for descending."
            )

    return ma.fields.String(
        load_default=default,
        validate=validate,
        metadata={"description": f"Comma-separated fields from {', '.join(allowed)}; prefix '-' for descending."},
    )


class TrimmedString(ma.fields.String):
    """Leading/trailing whitespace is never meaningful in names and titles."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip() if result is not None else result
