"""Schemas for accounts, tokens and the profile."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from api.schemas.common import decimal_string


class NormalisedEmail(ma.fields.Email):
    """Emails compare case-insensitively and without surrounding spaces: store them so."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


class RegisterSchema(ma.Schema):
    email = NormalisedEmail(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    display_name = ma.fields.String(validate=validate.Length(min=1, max=100), allow_none=True)


class LoginSchema(ma.Schema):
    email = NormalisedEmail(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String()
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Access token lifetime in seconds"})


class SessionTokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Access token lifetime in seconds"})


class UserSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.Email(dump_only=True)
    display_name = ma.fields.String(dump_only=True, allow_none=True)
    role = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class ProfileUpdateSchema(ma.Schema):
    display_name = ma.fields.String(validate=validate.Length(min=1, max=100), allow_none=True)
    current_password = ma.fields.String(load_only=True, validate=validate.Length(max=1024))
    new_password = ma.fields.String(load_only=True, validate=validate.Length(max=1024))

    @ma.validates_schema
    def password_change_needs_current(self, data, **kwargs):
        if "new_password" in data and "current_password" not in data:
            raise ma.ValidationError("Required to change the password.", "current_password")


class ProfileSchema(UserSchema):
    tokens = ma.fields.Nested(
        TokenSchema,
        dump_only=True,
        metadata={"description": "After a password change: a fresh token pair for this session "
                  "(all other sessions are signed out)."},
    )


class AnalysisBudgetSchema(ma.Schema):
    budget_usd = decimal_string("Daily LLM budget in USD, as a decimal string; null = unlimited", "1.00")
    spent_usd = decimal_string("LLM spend counted today (UTC), as a decimal string; null if unknown now", "0.0421")
    resets_at = ma.fields.AwareDateTime(metadata={"description": "When today's spend goes back to zero"})
