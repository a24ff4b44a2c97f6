"""Typed values for names in the registry (AttributeDefinition): checking and describing the expected format."""

import re
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

_INTEGER = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def expected_format(definition, *, with_example: bool = True) -> str:
    """A short human description of the values a definition accepts, quoted in every error."""
    kind = definition.value_type
    formats = {
        "text": "any text",
        "boolean": "true or false (lowercase)",
        "integer": "a whole number, e.g. 100",
        "decimal": "a decimal number, e.g. 0.23",
        "date": "a date as YYYY-MM-DD, e.g. 2025-01-04",
        "datetime": "a date and time as YYYY-MM-DD HH:MM:SS, e.g. 2025-01-04 10:30:00",
        "email": "an email address, e.g. john.smith@company.com",
        "url": "a URL, e.g. https://example.com/",
        "choice": "one of: " + ", ".join(definition.choice_list),
        "regex": f"text matching the pattern {definition.pattern}",
    }
    text = formats[kind]
    if with_example and definition.example and kind in {"text", "regex"}:
        text += f", e.g. {definition.example}"
    return text


def _ok(definition, value: str) -> bool:
    kind = definition.value_type
    if kind == "text":
        return True
    if kind == "boolean":
        return value in {"true", "false"}
    if kind == "integer":
        return bool(_INTEGER.match(value))
    if kind == "decimal":
        return bool(_DECIMAL.match(value))
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat() == value
        except ValueError:
            return False
    if kind == "datetime":
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S") == value
        except ValueError:
            return False
    if kind in {"email", "url"}:
        try:
            (EmailValidator() if kind == "email" else URLValidator())(value)
        except ValidationError:
            return False
        return True
    if kind == "choice":
        return value in definition.choice_list
    if kind == "regex":
        return re.fullmatch(definition.pattern, value) is not None
    return False


def check_value(definition, name: str, value: str) -> None:
    """Raise ValidationError quoting the expected format when `value` does not fit `definition`."""
    if definition is not None and not _ok(definition, value):
        raise ValidationError(
            f"“{value}” is not a valid {name}: expected {expected_format(definition)}.", code="registry_type"
        )


def check_defined(definition, name: str) -> None:
    if definition is None and getattr(settings, "ATTRIBUTES_REQUIRE_DEFINITION", False):
        raise ValidationError(
            f"“{name}” is not in the attribute registry; ask an administrator to define it first.",
            code="undefined_name",
        )


def clean_definition(definition) -> None:
    """Model.clean of AttributeDefinition: the type's settings must make sense, and the example must fit."""
    errors = {}
    if definition.value_type == "choice" and not definition.choice_list:
        errors["choices"] = "List at least one allowed value."
    if definition.value_type == "regex":
        if not definition.pattern:
            errors["pattern"] = "Give the regular expression."
        else:
            try:
                re.compile(definition.pattern)
            except re.error as error:
                errors["pattern"] = f"Not a valid regular expression: {error}."
    if not errors and definition.example and not _ok(definition, definition.example):
        # Without the example: quoting the misfit itself as "e.g." would contradict the message.
        errors["example"] = f"The example does not fit: expected {expected_format(definition, with_example=False)}."
    if errors:
        raise ValidationError(errors)
