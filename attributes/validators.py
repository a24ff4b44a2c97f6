"""The rules for attribute names and values, shared by the model, forms, the API and every import path."""

import re

from django.core.exceptions import ValidationError

from crm_project.parsing import has_visible_character

NAME_MAX_LENGTH = 64
VALUE_MAX_LENGTH = 150
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# C0 control characters except tab, DEL, C1 controls (U+0080-U+009F) and lone surrogates (PostgreSQL stores
# neither NUL nor surrogates, and controls would break CSV exports and integrations that read values back).
FORBIDDEN_VALUE_CHARS_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


def suggest_name(raw: str) -> str:
    """The snake_case form of a rejected name: "External System ID" -> "external_system_id"."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", raw.strip())  # camelCase -> camel_Case
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    text = re.sub(r"^[0-9_]+", "", text)
    return text[:NAME_MAX_LENGTH].rstrip("_")


def validate_attribute_name(name: str) -> None:
    if not name:
        raise ValidationError("Attribute name is required.", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"Attribute names are at most {NAME_MAX_LENGTH} characters (this one has {len(name)}).", code="max_length"
        )
    if not NAME_RE.match(name):
        suggestion = suggest_name(name)
        hint = f", e.g. {suggestion}" if suggestion else ""
        raise ValidationError(
            f"“{name}” is not a valid attribute name: use lowercase with underscores{hint} "
            "(letters, digits and single underscores, starting with a letter).",
            code="invalid_name",
        )


def validate_attribute_value(value: str) -> None:
    if not value:
        raise ValidationError("Attribute value is required (1 to 150 characters).", code="required")
    if len(value) > VALUE_MAX_LENGTH:
        raise ValidationError(
            f"Attribute values are limited to {VALUE_MAX_LENGTH} characters; this one has {len(value)}. "
            "Split longer data into several attributes or use the customer's notes.",
            code="max_length",
        )
    if match := FORBIDDEN_VALUE_CHARS_RE.search(value):
        raise ValidationError(
            f"Attribute values cannot contain control characters (found U+{ord(match.group()):04X}).",
            code="control_character",
        )
    if not has_visible_character(value):  # e.g. only a zero-width space, a BOM or a bidi override
        raise ValidationError(
            "Attribute value is required (1 to 150 characters): this one has only invisible characters.",
            code="required",
        )
