"""A definition's own rules (AttributeDefinition.clean): its type's settings must make sense and the example fit."""

import pytest
from django.core.exceptions import ValidationError

from attributes.models import AttributeDefinition
from attributes.registry import expected_format

pytestmark = pytest.mark.django_db


def errors_of(**fields) -> dict[str, list[str]]:
    definition = AttributeDefinition(name="field_under_test", **fields)
    with pytest.raises(ValidationError) as caught:
        definition.full_clean()
    return caught.value.message_dict


def test_bad_regular_expression_is_refused():
    errors = errors_of(value_type="regex", pattern="SF-[0-9")

    assert errors["pattern"][0].startswith("Not a valid regular expression:")


def test_regex_type_needs_a_pattern():
    assert errors_of(value_type="regex") == {"pattern": ["Give the regular expression."]}


def test_choice_type_needs_choices():
    assert errors_of(value_type="choice", choices="  \n ") == {"choices": ["List at least one allowed value."]}


@pytest.mark.parametrize(
    ("fields", "example"),
    [
        ({"value_type": "integer"}, "ten"),
        ({"value_type": "date"}, "04/01/2025"),
        ({"value_type": "choice", "choices": "gold\nsilver"}, "platinum"),
        ({"value_type": "regex", "pattern": "SF-[0-9]{5}"}, "SF-1"),
    ],
)
def test_example_must_fit_the_type(fields, example):
    # The message quotes the format without the misfit example itself.
    expected = expected_format(AttributeDefinition(name="x", **fields))

    assert errors_of(**fields, example=example) == {"example": [f"The example does not fit: expected {expected}."]}


def test_name_follows_the_attribute_name_rules():
    definition = AttributeDefinition(name="Bad Name!", value_type="text")

    with pytest.raises(ValidationError) as caught:
        definition.full_clean()

    assert "name" in caught.value.message_dict


def test_a_sound_definition_is_valid_and_describes_its_format():
    definition = AttributeDefinition(
        name="support_tier", value_type="choice", choices="gold\nsilver\nbronze", example="gold"
    )
    definition.full_clean()

    assert definition.expected_format() == "one of: gold, silver, bronze"


def test_systems_are_read_from_the_comma_separated_list():
    assert AttributeDefinition(dependent_systems=" billing, RADIUS ,,").systems == ["billing", "RADIUS"]
