"""Typed values for names in the registry (AttributeDefinition): checking and describing the expected format."""

import re
from datetime import date, datetime
from functools import lru_cache

import re2
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

_INTEGER = re.compile(r"^-?[0-9]+$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

# Patterns come from users, so they run on RE2: matching is linear in the value's length whatever the pattern
# (Python's `re` backtracks: `(a+)+b` against 40 × "a" never ends). RE2 refuses what needs backtracking
# (backreferences, lookaround) when the definition is saved, and bounds each compiled pattern's memory.
PATTERN_MAX_LENGTH = 200  # = AttributeDefinition.pattern's max_length
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is a form error, not a line on stderr
# RE2's default, stated so it stays bounded: a pattern that needs more fails to compile instead of growing.
_RE2_OPTIONS.max_mem = 8 << 20


@lru_cache(maxsize=64)
def compile_pattern(pattern: str):
    """The pattern compiled by RE2. Raises ValueError with a readable reason for one RE2 (or we) refuse."""
    if len(pattern) > PATTERN_MAX_LENGTH:
        raise ValueError(f"at most {PATTERN_MAX_LENGTH} characters")
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except UnicodeEncodeError:
        raise ValueError("it contains a character that is not valid text (a lone surrogate)") from None
    except re2.error as error:
        reason = error.args[0] if error.args else str(error)
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"{reason}. Patterns run on RE2: no backreferences, lookahead or lookbehind") from None


def _matches(pattern: str, value: str) -> bool:
    try:
        return compile_pattern(pattern).fullmatch(value) is not None
    except (ValueError, UnicodeEncodeError):
        # A stored pattern RE2 refuses (saved before this check existed) or text with a lone surrogate: no match.
        return False


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
        return _matches(definition.pattern, value)
    return False


def check_value(definition, name: str, value: str) -> None:
    """Raise ValidationError quoting the expected format when `value` does not fit `definition`."""
    if definition is not None and not _ok(definition, value):
        # A sensitive value is never quoted back: error messages end up in logs, screenshots and tickets.
        shown = "This value" if definition.sensitive else f"“{value}”"
        raise ValidationError(
            f"{shown} is not a valid {name}: expected {expected_format(definition)}.", code="registry_type"
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
                compile_pattern(definition.pattern)
            except ValueError as error:
                errors["pattern"] = f"Not a valid regular expression: {error}."
    if not errors and definition.example and not _ok(definition, definition.example):
        # Without the example: quoting the misfit itself as "e.g." would contradict the message.
        errors["example"] = f"The example does not fit: expected {expected_format(definition, with_example=False)}."
    if errors:
        raise ValidationError(errors)
