"""The Attribute model's rules: lengths, characters, names, and the constraints the database enforces itself."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from attributes import services
from attributes.models import Attribute
from attributes.validators import suggest_name
from tests.factories import make_attribute, make_customer

pytestmark = pytest.mark.django_db

SPEC_PERMISSIONS = {
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
}


def upsert(customer, name="external_crm_id", value="SF-12345"):
    return services.attribute_upsert(customer=customer, name=name, value=value, actor=None)


def error_messages(excinfo, field: str) -> str:
    return " ".join(excinfo.value.message_dict[field])


# --- values -------------------------------------------------------------------------------------------


def test_value_of_150_characters_is_stored_whole(customer):
    value = "x" * 150

    upsert(customer, value=value)

    assert Attribute.objects.get(customer=customer).attribute_value == value


def test_value_of_151_characters_is_rejected_with_the_limit_in_the_message(customer):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, value="x" * 151)

    assert "150" in error_messages(excinfo, "attribute_value")
    assert not Attribute.objects.exists()


def test_value_over_the_limit_is_never_truncated_on_update(customer):
    attribute = make_attribute(customer, "external_crm_id", "SF-12345")

    with pytest.raises(ValidationError):
        upsert(customer, value="y" * 151)

    attribute.refresh_from_db()
    assert attribute.attribute_value == "SF-12345"


def test_value_length_counts_characters_not_bytes(customer):
    value = "é" * 150  # 300 bytes in UTF-8

    upsert(customer, value=value)

    stored = Attribute.objects.get(customer=customer).attribute_value
    assert stored == value
    assert len(stored) == 150


def test_151_accented_characters_are_rejected(customer):
    with pytest.raises(ValidationError):
        upsert(customer, value="é" * 151)


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "a\x01b", "line one\nline two", "a\rb", "a\x1fb", "a\x7fb"],
    ids=["nul", "soh", "newline", "carriage-return", "unit-separator", "del"],
)
def test_value_with_control_character_is_rejected(customer, value):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, value=value)

    assert "control character" in error_messages(excinfo, "attribute_value")
    assert not Attribute.objects.exists()


def test_value_with_tab_inside_is_accepted(customer):
    upsert(customer, value="col1\tcol2")

    assert Attribute.objects.get(customer=customer).attribute_value == "col1\tcol2"


@pytest.mark.parametrize("value", ["", "   ", "\t \t"], ids=["empty", "spaces", "whitespace"])
def test_empty_value_is_rejected(customer, value):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, value=value)

    assert "required" in error_messages(excinfo, "attribute_value")
    assert not Attribute.objects.exists()


def test_value_that_is_not_text_is_rejected(customer):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, value=12345)

    assert "attribute_value" in excinfo.value.message_dict


def test_name_and_value_are_trimmed_before_validation(customer):
    upsert(customer, name="  billing_method \t", value="  quarterly  ")

    attribute = Attribute.objects.get(customer=customer)
    assert (attribute.attribute_name, attribute.attribute_value) == ("billing_method", "quarterly")


def test_value_of_150_characters_plus_surrounding_spaces_is_accepted(customer):
    upsert(customer, value=f"  {'v' * 150}  ")

    assert Attribute.objects.get(customer=customer).attribute_value == "v" * 150


def test_model_full_clean_rejects_a_151_character_value(customer):
    attribute = Attribute(customer=customer, attribute_name="note", attribute_value="z" * 151)

    with pytest.raises(ValidationError) as excinfo:
        attribute.full_clean()

    assert "150" in error_messages(excinfo, "attribute_value")


def test_model_full_clean_rejects_a_control_character(customer):
    attribute = Attribute(customer=customer, attribute_name="note", attribute_value="a\x00b")

    with pytest.raises(ValidationError) as excinfo:
        attribute.full_clean()

    assert "attribute_value" in excinfo.value.message_dict


# --- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["external_crm_id", "a", "vlan_id", "ipv6_enabled", "api_key_v2", "x1_2_3", "a" * 64],
)
def test_snake_case_name_is_accepted(customer, name):
    upsert(customer, name=name)

    assert Attribute.objects.get(customer=customer).attribute_name == name


@pytest.mark.parametrize(
    "name",
    [
        "External System ID",
        "external system id",
        "ExternalCrmId",
        "external-crm-id",
        "1st_contact",
        "_private",
        "trailing_",
        "double__underscore",
        "crm_ID",
        "naïve",
        "name.with.dots",
    ],
)
def test_name_outside_lowercase_snake_case_is_rejected(customer, name):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, name=name)

    assert "lowercase with underscores" in error_messages(excinfo, "attribute_name")
    assert not Attribute.objects.exists()


def test_rejected_name_error_suggests_the_snake_case_form(customer):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, name="External System ID")

    assert "e.g. external_system_id" in error_messages(excinfo, "attribute_name")


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [
        ("External System ID", "external_system_id"),
        ("externalCrmId", "external_crm_id"),
        ("billing-method", "billing_method"),
        ("  Support Tier  ", "support_tier"),
    ],
)
def test_name_suggestion(raw, suggestion):
    assert suggest_name(raw) == suggestion


def test_name_of_65_characters_is_rejected_with_the_limit(customer):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, name="a" * 65)

    assert "64" in error_messages(excinfo, "attribute_name")


@pytest.mark.parametrize("name", ["", "   "], ids=["empty", "spaces"])
def test_empty_name_is_rejected(customer, name):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, name=name)

    assert "required" in error_messages(excinfo, "attribute_name")


def test_invalid_name_and_value_are_reported_together(customer):
    with pytest.raises(ValidationError) as excinfo:
        upsert(customer, name="Bad Name", value="x" * 151)

    assert set(excinfo.value.message_dict) == {"attribute_name", "attribute_value"}


# --- constraints held by the database itself ------------------------------------------------------------


def test_database_refuses_a_second_row_with_the_same_name_for_a_customer(customer):
    Attribute.objects.create(customer=customer, attribute_name="support_tier", attribute_value="premium")

    with pytest.raises(IntegrityError), transaction.atomic():
        Attribute.objects.create(customer=customer, attribute_name="support_tier", attribute_value="standard")

    assert Attribute.objects.filter(customer=customer).count() == 1


def test_same_name_is_allowed_on_different_customers(customer):
    other = make_customer()

    make_attribute(customer, "support_tier", "premium")
    make_attribute(other, "support_tier", "standard")

    assert Attribute.objects.filter(attribute_name="support_tier").count() == 2


def test_database_refuses_an_empty_value(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attribute.objects.create(customer=customer, attribute_name="support_tier", attribute_value="")

    assert not Attribute.objects.exists()


def test_database_refuses_an_empty_name(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attribute.objects.create(customer=customer, attribute_name="", attribute_value="premium")

    assert not Attribute.objects.exists()


def test_database_refuses_a_151_character_value(customer):
    # SQLite reports the check constraint (IntegrityError); PostgreSQL's varchar(150) refuses first (DataError).
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Attribute.objects.create(customer=customer, attribute_name="note", attribute_value="x" * 151)

    assert not Attribute.objects.exists()


def test_database_refuses_a_151_character_value_on_update(customer):
    attribute = make_attribute(customer, "note", "short")

    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Attribute.objects.filter(pk=attribute.pk).update(attribute_value="x" * 151)

    attribute.refresh_from_db()
    assert attribute.attribute_value == "short"


def test_database_accepts_150_accented_characters(customer):
    Attribute.objects.create(customer=customer, attribute_name="note", attribute_value="é" * 150)

    assert Attribute.objects.get(customer=customer).attribute_value == "é" * 150


def test_deleting_a_customer_deletes_its_attributes(customer):
    other = make_customer()
    make_attribute(customer, "external_crm_id", "SF-1")
    make_attribute(customer, "billing_method", "quarterly")
    kept = make_attribute(other, "external_crm_id", "SF-2")

    customer.delete()

    assert list(Attribute.objects.all()) == [kept]


def test_attributes_are_ordered_by_name(customer):
    for name in ["vlan_id", "billing_method", "external_crm_id"]:
        make_attribute(customer, name, "1")

    assert [a.attribute_name for a in customer.attributes.all()] == ["billing_method", "external_crm_id", "vlan_id"]


def test_attribute_str_shows_name_and_value(attribute):
    assert str(attribute) == "external_crm_id=SF-12345"


# --- permissions ----------------------------------------------------------------------------------------


def test_the_four_specification_permissions_and_the_sensitive_one_exist_and_nothing_else():
    content_type = ContentType.objects.get_for_model(Attribute)

    codenames = set(Permission.objects.filter(content_type=content_type).values_list("codename", flat=True))

    assert content_type.app_label == "attributes"
    assert codenames == SPEC_PERMISSIONS | {"view_sensitive_customer_attribute"}  # issue 16: sensitive values


def test_no_django_default_permissions_are_declared():
    assert Attribute._meta.default_permissions == ()
    assert not Permission.objects.filter(
        content_type__app_label="attributes", codename__regex=r"^(add|change|view|delete)_attribute$"
    ).exists()
