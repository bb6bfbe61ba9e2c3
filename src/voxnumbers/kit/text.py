"""Checks of free text fields shared by every feature."""

from __future__ import annotations

import unicodedata

from voxnumbers.errors import ValidationFailed


def has_control_characters(value: str) -> bool:
    """Whether the text holds a control character (PostgreSQL cannot even store NUL)."""
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def clean_text(field: str, value: str, *, allow_empty: bool = False) -> str:
    """Free text without surrounding spaces or control characters, or ``400`` on ``field``."""
    value = value.strip()
    if not value and not allow_empty:
        raise ValidationFailed.on(field, "must not be blank")
    if has_control_characters(value):
        raise ValidationFailed.on(field, "must not contain control characters")
    return value
